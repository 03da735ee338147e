"""Shared by the package/bootstrap/deploy tests: fast polling, small templates, AWS clients."""

from __future__ import annotations

import json
from typing import Any

import boto3

from scripts.aws import Aws, AwsTarget
from scripts.deploy.deployer import Polling

# moto finishes every stack operation at once; no reason to wait between polls.
FAST = Polling(delay=0.01, backoff=1.0, max_delay=0.01, timeout=30)


def aws_for(endpoint: str, session: boto3.Session | None = None) -> Aws:
    """An Aws pointed at the moto server."""
    return Aws(AwsTarget(region="us-east-1", endpoint_url=endpoint), session=session)


def client(endpoint: str, service: str) -> Any:
    """A plain boto3 client on the moto server, for the tests' own checks."""
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)


def queue_template(queue_name: str = "orders", padding: int = 0, **extra_params: str) -> str:
    """A small template (one SQS queue, a Name parameter); PADDING bytes of Metadata make it big."""
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"QueueName": {"Type": "String", "Default": queue_name}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "QueueName"}}}
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
    }
    for name, default in extra_params.items():
        document["Parameters"][name] = {"Type": "String", "Default": default}
    if padding:
        document["Metadata"] = {"Padding": "x" * padding}
    return json.dumps(document, indent=2, sort_keys=True)
