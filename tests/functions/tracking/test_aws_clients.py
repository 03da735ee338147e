"""tracking_api.aws: no AWS call at import, clients made lazily and never pinned to a stale endpoint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tracking_api import aws

from .conftest import FUNCTION_DIR, answer, post_event, reset_caches
from .stack import definitions, provision

VALID = {"tracking_id": "EP-1", "status": "delivered", "location": {"lat": 0, "lng": 0}}


def test_importing_the_handler_makes_no_call_and_no_client_of_ours():
    # GIVEN a fresh interpreter whose botocore refuses every API call and our services' clients
    # (the X-Ray SDK makes a client for its local daemon at import outside Lambda: no call)
    code = (
        "import botocore.client, botocore.session, sys\n"
        "def refuse_call(*a, **k): raise SystemExit('AWS call at import')\n"
        "botocore.client.BaseClient._make_api_call = refuse_call\n"
        "create = botocore.session.Session.create_client\n"
        "def guarded(self, name, *a, **k):\n"
        "    if name in ('dynamodb', 'ssm'): raise SystemExit('client created at import: ' + name)\n"
        "    return create(self, name, *a, **k)\n"
        "botocore.session.Session.create_client = guarded\n"
        f"sys.path.insert(0, {str(FUNCTION_DIR)!r})\n"
        "import handler\n"
        "print('imported', callable(handler.main))\n"
    )
    env = {**os.environ, **definitions().function_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    # WHEN the handler module is imported / THEN it imports without either
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "imported True" in done.stdout


def test_clients_are_reused_while_settings_stay(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    reset_caches()
    assert aws.client("dynamodb") is aws.client("dynamodb")
    assert aws.ssm_provider() is aws.ssm_provider()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:2"
    reset_caches()


def test_a_client_pool_holds_the_requests_sent_at_once(monkeypatch):
    # GIVEN / WHEN clients are asked for with and without a number of parallel requests
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    reset_caches()
    try:
        def pool(client):
            return client.meta.config.max_pool_connections

        # THEN the pool is that number, never below botocore's default of 10
        assert pool(aws.client("dynamodb")) == 10 == aws.DEFAULT_POOL_CONNECTIONS
        assert pool(aws.client("dynamodb", parallel_requests=2)) == 10
        assert pool(aws.client("dynamodb", parallel_requests=16)) == 16
        # AND one client serves every caller that needs the same pool (the tables share it)
        assert aws.client("dynamodb", parallel_requests=2) is aws.client("dynamodb")
        assert aws.client("dynamodb", parallel_requests=16) is aws.client("dynamodb", parallel_requests=16)
        assert aws.client("dynamodb", parallel_requests=16) is not aws.client("dynamodb")
    finally:
        reset_caches()


@pytest.mark.slow
def test_a_new_endpoint_is_followed_after_import(handler, lambda_context, moto_endpoint, monkeypatch):
    # GIVEN the moto server (one state) reachable under two names, with the template's table and parameters
    defs = provision(moto_endpoint)
    for name, value in defs.function_env.items():
        monkeypatch.setenv(name, value)
    by_ip, by_name = moto_endpoint, moto_endpoint.replace("127.0.0.1", "localhost")
    reset_caches()
    sent: list[str] = []
    events = aws.session().events  # the function's own session: clients copy its hooks when made
    record = lambda request, **_: sent.append(request.url)  # noqa: E731
    events.register("before-send.dynamodb", record)
    try:
        # WHEN the already-imported handler serves one request under each AWS_ENDPOINT_URL
        statuses = []
        for endpoint in (by_ip, by_name):
            monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
            statuses.append(answer(handler.main(post_event(VALID), lambda_context))[0])
    finally:
        events.unregister("before-send.dynamodb", record)
        reset_caches()

    # THEN each request went to the endpoint set at its time (no client pinned at import)
    assert statuses == [200, 200]
    assert [url.split("/")[2].split(":")[0] for url in sent] == ["127.0.0.1", "localhost"]
