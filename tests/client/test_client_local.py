"""The client against `python -m scripts.local` over real HTTP: real SigV4 signatures checked by the
local API Gateway, pages followed, both layers' errors, and the command line."""

from __future__ import annotations

import json
import time

import botocore.session
import pytest

from tests.scripts.local.test_local_e2e import LocalApi, local_api  # noqa: F401 - fixture: one scripts.local for this module
from tracking_client import ApiError, TrackingClient
from tracking_client.cli import main

pytestmark = pytest.mark.slow

REGION = "us-east-1"


def session(access_key: str = "testing", secret: str = "testing") -> botocore.session.Session:
    """A botocore session holding exactly these credentials (nothing read from the environment)."""
    made = botocore.session.Session()
    made.set_credentials(access_key, secret)
    return made


@pytest.fixture
def client(local_api: LocalApi) -> TrackingClient:  # noqa: F811 - the imported fixture
    """A client of the running local API, signing with the credentials it accepts."""
    with TrackingClient(local_api.base_url, session(), REGION) as made:
        yield made


def test_track_then_status_reads_it_back(client: TrackingClient) -> None:
    # GIVEN an update  # WHEN it is tracked through the client
    stored = client.track("CLIENT-1", "in_transit", 52.52, 13.405, {"carrier": "ACME"})
    # THEN the handler stored it and the status lists it
    assert stored["message"] == "Tracking update stored"
    assert stored["tracking_id"] == "CLIENT-1" and isinstance(stored["timestamp"], int)
    updates = list(client.status("CLIENT-1"))
    assert [(u["status"], u["timestamp"], u["metadata"]) for u in updates] == [
        ("in_transit", stored["timestamp"], {"carrier": "ACME"})]
    assert updates[0]["location"] == {"lat": 52.52, "lng": 13.405}


def test_an_id_with_plus_equals_and_percent_is_signed_and_found(client: TrackingClient) -> None:
    # GIVEN an id that awscurl cannot sign in a query string
    odd = "A+B=C%2F D/é"
    # WHEN it is tracked and read back
    stored = client.track(odd, "pending", 1, 2)
    updates = list(client.status(odd))
    # THEN the signature held both ways and the id came back unchanged
    assert stored["tracking_id"] == odd
    assert [u["tracking_id"] for u in updates] == [odd]


def test_status_follows_next_key_through_every_page(client: TrackingClient) -> None:
    # GIVEN five updates of one shipment
    stamps = [client.track("CLIENT-PAGES", "in_transit", 1, i)["timestamp"] for i in range(5)]
    # WHEN they are read two per request
    pages = list(client.status_pages("CLIENT-PAGES", limit=2))
    # THEN three pages, newest first, each update once; only the last page has no next_key
    assert [p["count"] for p in pages] == [2, 2, 1]
    assert ["next_key" in p for p in pages] == [True, True, False]
    assert [u["timestamp"] for p in pages for u in p["updates"]] == sorted(stamps, reverse=True)
    assert [u["location"]["lng"] for u in client.status("CLIENT-PAGES", limit=2)] == [4, 3, 2, 1, 0]


def test_shipments_follows_next_key_and_lists_each_once(client: TrackingClient) -> None:
    # GIVEN three shipments now delivered (the stream projects them within seconds)
    ids = {f"CLIENT-LIST-{i}" for i in range(3)}
    for tracking_id in sorted(ids):
        client.track(tracking_id, "failed", 1, 2)
    deadline = time.monotonic() + 10
    # WHEN the listing is read one shipment per request
    listed: list[str] = []
    while time.monotonic() < deadline:
        listed = [s["tracking_id"] for s in client.shipments("failed", limit=1)]
        if ids <= set(listed):
            break
        time.sleep(0.1)
    # THEN each of them is listed exactly once across the pages
    assert sorted(i for i in listed if i in ids) == sorted(ids)
    assert len(listed) == len(set(listed))


def test_api_gateway_answer_is_an_api_error_with_its_message(client: TrackingClient) -> None:
    # GIVEN a body the request model refuses  # WHEN it is tracked
    with pytest.raises(ApiError) as raised:
        client.track("CLIENT-BAD", "lost", 1, 2)
    # THEN API Gateway's {"message"} is the reason, and nothing was retried into the table
    assert (raised.value.status, raised.value.reason) == (400, "Invalid request body")
    assert list(client.status("CLIENT-BAD")) == []


def test_handler_answer_is_an_api_error_with_its_error(client: TrackingClient) -> None:
    # GIVEN a limit out of the API's range  # WHEN it is asked for
    with pytest.raises(ApiError) as raised:
        list(client.status("CLIENT-1", limit=500))
    # THEN the handler's {"error"} is the reason
    assert (raised.value.status, raised.value.reason) == (400, "limit must be an integer from 1 to 100")


def test_wrong_credentials_are_refused_with_the_gateways_reason(local_api: LocalApi) -> None:  # noqa: F811
    # GIVEN a client signing with a key the API does not know
    with TrackingClient(local_api.base_url, session("AKIDUNKNOWN", "x"), REGION) as stranger:
        # WHEN it asks  # THEN 403 with API Gateway's message, not retried
        with pytest.raises(ApiError) as raised:
            list(stranger.status("CLIENT-1"))
    assert (raised.value.status, raised.value.reason) == (403, "The security token included in the request is invalid.")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object, str]:
    """Run the command line in-process; its exit code, stdout parsed as JSON (if any), stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_cli_tracks_and_reads_pages_as_json(local_api: LocalApi, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the credentials scripts.local accepts, in the environment as a user sets them
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    where = ["--url", local_api.base_url, "--region", REGION]
    # WHEN three updates are tracked and read back two per request, then one page only
    for lng in range(3):
        code, answer, err = run_cli(capsys, "track", "CLIENT-CLI", "--status", "delivered", "--lat", "1",
                                    "--lng", str(lng), "--metadata", '{"n": 1}', *where)
        assert (code, err, answer["message"]) == (0, "", "Tracking update stored")
    code, everything, _ = run_cli(capsys, "status", "CLIENT-CLI", "--limit", "2", *where)
    code_one, first, _ = run_cli(capsys, "status", "CLIENT-CLI", "--limit", "2", "--max-pages", "1", *where)
    code_rest, rest, _ = run_cli(capsys, "status", "CLIENT-CLI", "--limit", "2", "--last-key", first["next_key"], *where)
    # THEN every page is merged into one answer of the API's shape; --max-pages leaves a next_key to resume with
    assert (code, everything["tracking_id"], everything["count"], "next_key" in everything) == (0, "CLIENT-CLI", 3, False)
    assert [u["location"]["lng"] for u in everything["updates"]] == [2, 1, 0]
    assert (code_one, first["count"], code_rest, rest["count"]) == (0, 2, 0, 1)
    assert first["updates"] + rest["updates"] == everything["updates"]


def test_cli_prints_the_apis_reason_and_exits_1(local_api: LocalApi, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # GIVEN a status the API does not know  # WHEN the listing is asked for it
    code, out, err = run_cli(capsys, "shipments", "lost", "--url", local_api.base_url, "--region", REGION)
    # THEN one line with the handler's reason, exit 1, nothing on stdout
    assert (code, out) == (1, None)
    assert err == "error: HTTP 400: status must be one of ['pending', 'in_transit', 'delivered', 'failed']\n"
