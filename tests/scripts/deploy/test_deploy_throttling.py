"""Throttling: botocore's own retry path (not a Stubber short-cut) carries the deploy through."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from scripts.aws import ApiCallCounter
from scripts.deploy.project import DeployOptions, deploy_stack

from ..deploy_support import FAST, aws_for, client, queue_template

pytestmark = pytest.mark.slow

THROTTLED = (
    b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
    b"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>7b6c1f0e-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class Throttler:
    """Answers the first N requests of each named operation as AWS does when throttling."""

    def __init__(self, session: boto3.Session, operations: dict[str, int]) -> None:
        self.remaining = dict(operations)
        self.throttled = 0
        for operation in operations:
            session.events.register(
                f"before-send.cloudformation.{operation}", partial(self._maybe_throttle, operation)
            )

    def _maybe_throttle(self, operation: str, request: Any, **_: Any) -> AWSResponse | None:
        if not self.remaining[operation]:
            return None  # botocore sends the request to the server
        self.remaining[operation] -= 1
        self.throttled += 1
        return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Raw(THROTTLED))


def test_throttled_calls_are_retried_and_the_deploy_succeeds(moto_endpoint: str, tmp_path: Path) -> None:
    # GIVEN CloudFormation throttling the first CreateChangeSet
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    session = boto3.Session(region_name="us-east-1")
    counter = ApiCallCounter(session)
    throttler = Throttler(session, {"CreateChangeSet": 1})
    # WHEN deploying with the scripts' retry configuration
    result = deploy_stack(
        DeployOptions(stack_name="throttled", template_file=template, bucket="artifacts", polling=FAST),
        aws_for(moto_endpoint, session),
    )
    # THEN the throttled call was retried by botocore and the stack was created
    assert throttler.throttled == 1
    assert result.outcome == "deployed" and result.status == "CREATE_COMPLETE"
    assert counter.count("CreateChangeSet") == 1  # one call, retried inside botocore
