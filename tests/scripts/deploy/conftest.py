"""The deployer's Stubber fixtures: a stubbed CloudFormation client, a clock that moves when it sleeps, a Deployer over both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from scripts.console import Console
from scripts.deploy.deployer import Deployer, Polling

from .stubbed import REGION, FakeClock


@pytest.fixture
def cfn() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deployer(cfn: tuple[Any, Stubber], clock: FakeClock) -> Deployer:
    return Deployer(cfn[0], None, Polling(delay=5, backoff=2, max_delay=30, timeout=600),
                    Console(), sleep=clock.sleep, clock=clock)  # fmt: skip
