"""Assembles the local stack's runtime from a deployed stack: the API gateway and stream pollers."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from .emulator import detach_stream_consumers
from .events import Caller, StageInfo
from .functions import InProcessFunction
from .gateway import Gateway
from .routes import rest_api_from_template
from .sigv4 import Credentials
from .stack import Clients, DeployedStack, deployed_stack, function_config
from .streams import StreamPoller, stream_mappings

log = logging.getLogger("scripts.local")


@dataclass
class LocalApp:
    """What serves the deployed stack locally: the gateway and the stream pollers."""

    gateway: Gateway
    pollers: list[StreamPoller] = field(default_factory=list)

    def start(self) -> None:
        """Start polling the streams (from now on: LATEST means records after this call)."""
        for poller in self.pollers:
            poller.prime()
            poller.start()

    def stop(self, timeout: float = 5.0) -> int:
        """Drain the pollers: deliver what the streams already hold, for TIMEOUT seconds at most.

        Returns how many stream records were left undelivered (0: nothing was lost).
        """
        deadline = time.monotonic() + timeout
        for poller in self.pollers:
            poller.drain(timeout)
        for poller in self.pollers:
            # A second more than the drain's own deadline: a batch may be in the function.
            if poller.is_alive():
                poller.join(max(0.0, deadline + 1.0 - time.monotonic()))
            if poller.is_alive():
                log.warning("%s: still delivering a batch after %.0fs; not waiting for it", poller.name, timeout)
        return sum(poller.undelivered for poller in self.pollers)


def _stage(stack: DeployedStack, domain_name: str, api: Any) -> StageInfo:
    api_physical_id = stack.physical_ids[api.logical_id]
    resources = stack.clients("apigateway").get_resources(restApiId=api_physical_id, limit=500)["items"]
    return StageInfo(
        api_id=api_physical_id,
        account_id=stack.identity.account_id,
        stage=api.stage_name,
        stage_variables=api.stage_variables,
        domain_name=domain_name,
        resource_ids={r["path"]: r["id"] for r in resources},
    )


def assemble(
    session: boto3.session.Session,
    stack_name: str,
    template: Mapping[str, Any],
    domain_name: str,
    credentials: Credentials,
    streams: bool = True,
) -> LocalApp:
    """Read the deployed stack, load the functions it runs, and wire the gateway and pollers."""
    stack = deployed_stack(Clients(session), stack_name, template)
    api = rest_api_from_template(stack.resolver)
    functions: dict[str, InProcessFunction] = {}

    def function(logical_id: str) -> InProcessFunction:
        if logical_id not in functions:
            functions[logical_id] = InProcessFunction(function_config(stack, logical_id), stack.region)
        return functions[logical_id]

    for route in api.routes:
        if route.function:
            function(route.function)
    caller = Caller(None, stack.identity.account_id, stack.identity.arn, stack.identity.user_id)
    gateway = Gateway(api, _stage(stack, domain_name, api), credentials, stack.region, functions, caller)
    pollers = []
    for mapping in stream_mappings(stack.resolver):
        # Whether or not we poll, moto's own (Docker-bound) consumer must not eat the stream.
        detach_stream_consumers(stack.identity.account_id, stack.region, stack.physical_ids[mapping.table])
        if not streams:
            continue
        pollers.append(
            StreamPoller(
                mapping,
                function(mapping.function),
                stack.clients,
                stream_arn=str(stack.resolver.getatt(mapping.table, "StreamArn")),
                on_failure_queue_url=stack.physical_ids.get(mapping.on_failure or ""),
            )
        )
    return LocalApp(gateway, pollers)
