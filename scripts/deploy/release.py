"""Releases: CodeDeploy's traffic shift followed while CloudFormation waits, and old versions pruned.

While CloudFormation updates an alias with `UpdatePolicy.CodeDeployLambdaAliasUpdate`, CodeDeploy
moves traffic for minutes and the stack only says UPDATE_IN_PROGRESS. `ShiftFollower` shows the
deployment as it goes (id, traffic on the new version, time left) and, on a rollback, what stopped
it and the `aws deploy` command to inspect it. `check_no_release_in_progress` refuses to execute
over a deployment that is still running (CodeDeploy would fail the alias update). After a
successful deploy, `prune_versions` keeps the newest versions of each function and deletes older
ones that no alias and no event source mapping uses.

An endpoint without CodeDeploy or Lambda aliases (an emulator) is tolerated: said once, skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from ..errors import DeployError
from .context import UNSUPPORTED_CODES, Context, error_code, error_message
from .events import StackEvent
from .template import StackTemplate

ALIAS_TYPE = "AWS::Lambda::Alias"
FUNCTION_TYPE = "AWS::Lambda::Function"
VERSION_TYPE = "AWS::Lambda::Version"
# CodeDeploy's statuses of a deployment that has not ended.
ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
# A Lambda deployment that did not succeed: CodeDeploy moved the alias back (auto rollback).
FAILED_STATUSES = frozenset({"Failed", "Stopped"})
# What an endpoint says when it lacks the service or has none of the stack's CodeDeploy objects.
MISSING_CODES = UNSUPPORTED_CODES | {"ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"}
NO_CODEDEPLOY_NOTE = ("note: the endpoint has no CodeDeploy deployments for this stack (an emulator?): traffic "
                      "shifts are neither checked nor followed")  # fmt: skip


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReleaseClients:
    """The clients a release needs beyond CloudFormation's."""

    codedeploy: Any
    lambda_: Any
    cloudwatch: Any


@dataclass(frozen=True)
class ShiftedAlias:
    """An alias the template hands to CodeDeploy: its logical id, its application's and group's."""

    alias: str
    application: str
    group: str


def shifted_aliases(template: StackTemplate) -> list[ShiftedAlias]:
    """The template's aliases with `UpdatePolicy.CodeDeployLambdaAliasUpdate` (Refs to its app and group)."""
    found = []
    for logical_id in template.resources_of_type(ALIAS_TYPE):
        policy = (template.document["Resources"][logical_id].get("UpdatePolicy") or {}).get(
            "CodeDeployLambdaAliasUpdate"
        ) or {}
        application, group = (_ref(policy.get(key)) for key in ("ApplicationName", "DeploymentGroupName"))
        if application and group:
            found.append(ShiftedAlias(logical_id, application, group))
    return found


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _lacks(error: Exception) -> bool:
    """The endpoint lacks the operation or the stack's CodeDeploy objects (moto answers HTML: a parse error)."""
    return isinstance(error, ResponseParserError) or (
        isinstance(error, ClientError) and error_code(error) in MISSING_CODES
    )


def stack_resources(context: Context, stack_id: str) -> dict[str, tuple[str, str]]:
    """Logical id -> (type, physical id) of the stack's resources that have both."""
    rows = context.cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
    return {
        r["LogicalResourceId"]: (r.get("ResourceType", ""), r["PhysicalResourceId"])
        for r in rows
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }


def _alias_parts(alias_arn: str) -> tuple[str, str]:
    """(function name, alias name) of `arn:...:function:NAME:ALIAS`."""
    function, _, alias = alias_arn.rpartition(":")
    return function.rpartition(":")[2], alias


def check_no_release_in_progress(
    context: Context, clients: ReleaseClients, stack_id: str, template: StackTemplate
) -> bool:
    """Refuse to execute while one of the stack's deployment groups has a deployment running.

    False: the endpoint has no CodeDeploy for this stack (said once, here): nothing to follow either.
    """
    aliases = shifted_aliases(template)
    resources = stack_resources(context, stack_id)
    for shifted in aliases:
        if shifted.application not in resources or shifted.group not in resources:
            continue  # not created yet: nothing can be running in it
        application, group = resources[shifted.application][1], resources[shifted.group][1]
        try:
            running = clients.codedeploy.list_deployments(
                applicationName=application, deploymentGroupName=group, includeOnlyStatuses=list(ACTIVE_STATUSES)
            ).get("deployments", [])
        except (ResponseParserError, ClientError) as error:
            if not _lacks(error):
                raise
            context.console.info(NO_CODEDEPLOY_NOTE)
            return False
        if running:
            command = context.aws_command("stop-deployment", "--deployment-id", running[0],
                                          "--auto-rollback-enabled", service="deploy")  # fmt: skip
            raise DeployError(
                f"CodeDeploy deployment {running[0]} of {shifted.alias} (group {group}) is still in progress: "
                f"a new release would fail on it. Wait for it to end, or stop it with `{command}`"
            )
    return True


@dataclass
class Followed:
    """One CodeDeploy deployment being followed, and the last line shown for it."""

    deployment_id: str
    shifted: ShiftedAlias
    application: str
    group: str
    alias_arn: str
    status: str = ""
    shown: str = ""
    info: dict[str, Any] = field(default_factory=dict)


class ShiftFollower:
    """Shows the CodeDeploy deployments of the stack's aliases while CloudFormation waits on them."""

    def __init__(
        self, context: Context, clients: ReleaseClients, stack_id: str, aliases: Iterable[ShiftedAlias],
        started: datetime, now: Callable[[], datetime] = _utc_now,
    ) -> None:  # fmt: skip
        self.context = context
        self.clients = clients
        self.stack_id = stack_id
        self.aliases = {a.alias: a for a in aliases}
        self.started = started
        self.now = now
        self.waiting: dict[str, ShiftedAlias] = {}  # aliases CloudFormation is updating, deployment not found yet
        self.followed: dict[str, Followed] = {}
        self.enabled = bool(self.aliases)
        self._configs: dict[str, dict[str, Any]] = {}

    # -- called by the wait loop ---------------------------------------------------------------

    def __call__(self, events: list[StackEvent]) -> None:
        """Take the new stack events; show how each deployment under way moves."""
        if not self.enabled:
            return
        for event in events:
            if event.logical_id in self.aliases and event.status == "UPDATE_IN_PROGRESS":
                self.waiting[event.logical_id] = self.aliases[event.logical_id]
        try:
            self._find_deployments()
            for followed in self.followed.values():
                if followed.status not in FAILED_STATUSES | {"Succeeded"}:
                    self._refresh(followed)
        except (ResponseParserError, ClientError) as error:
            if not _lacks(error):
                raise
            self._give_up()

    def finish(self) -> list[Followed]:
        """After the wait: each deployment's final state shown; return those CodeDeploy rolled back."""
        if self.enabled:
            try:
                self._find_deployments()
                for followed in self.followed.values():
                    if not followed.shown or followed.status not in FAILED_STATUSES | {"Succeeded"}:
                        self._refresh(followed)
            except (ResponseParserError, ClientError) as error:
                if not _lacks(error):
                    raise
                self._give_up()
        rolled_back = [f for f in self.followed.values() if f.status in FAILED_STATUSES]
        for followed in rolled_back:
            self._explain_rollback(followed)
        return rolled_back

    # -- internals -------------------------------------------------------------------------------

    def _give_up(self) -> None:
        self.enabled = False
        self.context.console.info(NO_CODEDEPLOY_NOTE)

    def _find_deployments(self) -> None:
        if not self.waiting:
            return
        resources = stack_resources(self.context, self.stack_id)
        for logical_id, shifted in list(self.waiting.items()):
            if shifted.application not in resources or shifted.group not in resources:
                continue
            application, group = resources[shifted.application][1], resources[shifted.group][1]
            ids = self.clients.codedeploy.list_deployments(
                applicationName=application, deploymentGroupName=group,
                createTimeRange={"start": self.started},
            ).get("deployments", [])  # fmt: skip
            for deployment_id in ids:
                if deployment_id not in self.followed:
                    alias_arn = resources.get(logical_id, ("", ""))[1]
                    self.followed[deployment_id] = Followed(deployment_id, shifted, application, group, alias_arn)
            if ids:
                del self.waiting[logical_id]

    def _refresh(self, followed: Followed) -> None:
        info = self.clients.codedeploy.get_deployment(deploymentId=followed.deployment_id)["deploymentInfo"]
        followed.info, followed.status = info, info.get("status", "")
        parts = [f"CodeDeploy {followed.deployment_id} ({followed.shifted.alias}): {followed.status}"]
        traffic = self._traffic(followed.alias_arn)
        if traffic:
            parts.append(traffic)
        if followed.status not in FAILED_STATUSES | {"Succeeded"}:
            left = self._time_left(info)
            if left is not None:
                parts.append(f"about {_duration(left)} left")
        line = ", ".join(parts)
        if line != followed.shown:
            self.context.console.info(line)
            followed.shown = line

    def _traffic(self, alias_arn: str) -> str:
        """"traffic: version 7 10%, version 6 90%" from the alias's routing configuration."""
        if not alias_arn:
            return ""
        function, name = _alias_parts(alias_arn)
        alias = self.clients.lambda_.get_alias(FunctionName=function, Name=name)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        shares = [(version, weight * 100) for version, weight in sorted(weights.items())]
        primary = alias["FunctionVersion"]
        rest = 100 - sum(share for _, share in shares)
        shown = [f"version {v} {_percent(s)}" for v, s in shares] + [f"version {primary} {_percent(rest)}"]
        return "traffic: " + ", ".join(shown)

    def _time_left(self, info: dict[str, Any]) -> float | None:
        """Seconds until the configuration shifts the last traffic (None: unknown)."""
        created, name = info.get("createTime"), info.get("deploymentConfigName")
        if not isinstance(created, datetime) or not name:
            return None
        if name not in self._configs:
            self._configs[name] = self.clients.codedeploy.get_deployment_config(deploymentConfigName=name)[
                "deploymentConfigInfo"
            ].get("trafficRoutingConfig") or {}  # fmt: skip
        total = shift_minutes(self._configs[name]) * 60
        return max(0.0, total - (self.now() - created).total_seconds())

    def _explain_rollback(self, followed: Followed) -> None:
        info = followed.info
        error = info.get("errorInformation") or {}
        rollback = info.get("rollbackInfo") or {}
        console = self.context.console
        console.warn(f"CodeDeploy rolled back {followed.shifted.alias}: deployment {followed.deployment_id} "
                     f"{followed.status}; the alias is back on its previous version")  # fmt: skip
        if error.get("code") == "ALARM_ACTIVE" or "alarm" in error.get("message", "").lower():
            alarms = self._alarms_firing(followed)
            if alarms:
                console.warn(f"  stopped by alarm: {', '.join(alarms)}")
        if error:
            console.warn(f"  {error.get('code', '')}: {error.get('message', '')}".rstrip(": "))
        if rollback.get("rollbackMessage"):
            console.warn(f"  {rollback['rollbackMessage']}")
        command = self.context.aws_command("get-deployment", "--deployment-id", followed.deployment_id, service="deploy")
        console.warn(f"  inspect it with `{command}`")

    def _alarms_firing(self, followed: Followed) -> list[str]:
        """The deployment group's watched alarms that are in ALARM now."""
        group = self.clients.codedeploy.get_deployment_group(
            applicationName=followed.application, deploymentGroupName=followed.group
        )["deploymentGroupInfo"]
        names = [a["name"] for a in (group.get("alarmConfiguration") or {}).get("alarms", []) if a.get("name")]
        if not names:
            return []
        alarms = self.clients.cloudwatch.describe_alarms(AlarmNames=names, StateValue="ALARM").get("MetricAlarms", [])
        return sorted(a["AlarmName"] for a in alarms)


def shift_minutes(routing: dict[str, Any]) -> int:
    """Minutes from a deployment's start until its configuration shifts the last traffic."""
    kind = routing.get("type")
    if kind == "TimeBasedCanary":
        return int(routing["timeBasedCanary"]["canaryInterval"])
    if kind == "TimeBasedLinear":
        linear = routing["timeBasedLinear"]
        # The first step at the start, one more every interval until 100 %.
        return int(linear["linearInterval"]) * (math.ceil(100 / int(linear["linearPercentage"])) - 1)
    return 0  # AllAtOnce


def _percent(share: float) -> str:
    return f"{share:.0f}%" if abs(share - round(share)) < 0.05 else f"{share:.1f}%"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# -- pruning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    """What pruning did to one function: versions deleted, and older ones kept because something uses them."""

    function: str
    deleted: tuple[str, ...]
    in_use: tuple[str, ...]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def versions_in_use(lambda_: Any, function_name: str, function_arn: str) -> dict[str, str]:
    """Version -> what uses it: an alias (and its routing's extra version) or an event source mapping."""
    used: dict[str, str] = {}
    for alias in _pages(lambda_, "list_aliases", "Aliases", FunctionName=function_name):
        used.setdefault(str(alias["FunctionVersion"]), f"alias {alias['Name']}")
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        for version in weights:
            used.setdefault(str(version), f"alias {alias['Name']} (routing)")
    if not function_arn:
        return used
    # Every mapping, not a filtered list: a mapping on a qualified ARN names the version itself.
    for mapping in _pages(lambda_, "list_event_source_mappings", "EventSourceMappings"):
        base, _, qualifier = mapping.get("FunctionArn", "").partition(f"{function_arn}:")
        if not base and qualifier.isdigit():
            used.setdefault(qualifier, f"event source mapping {mapping.get('UUID', '')}")
    return used


def prune_function(context: Context, lambda_: Any, function_name: str, keep: int) -> Pruned:
    """Delete FUNCTION_NAME's versions older than the newest KEEP that nothing uses; never $LATEST."""
    listed = _pages(lambda_, "list_versions_by_function", "Versions", FunctionName=function_name)
    numbered = sorted((int(v["Version"]) for v in listed if str(v["Version"]).isdigit()), reverse=True)
    latest = [v for v in listed if v["Version"] == "$LATEST"]
    function_arn = latest[0]["FunctionArn"].removesuffix(":$LATEST") if latest else ""
    older = [str(v) for v in numbered[keep:]]
    if not older:
        return Pruned(function_name, (), ())
    used = versions_in_use(lambda_, function_name, function_arn)
    deleted = []
    for version in sorted(older, key=int):
        if version in used:
            continue
        try:
            lambda_.delete_function(FunctionName=function_name, Qualifier=version)
        except ClientError as error:  # something else took it up meanwhile: keep it, say why
            context.console.warn(f"warning: version {version} of {function_name} not deleted: {error_message(error)}")
            continue
        deleted.append(version)
    return Pruned(function_name, tuple(deleted), tuple(v for v in sorted(older, key=int) if v in used))


def prune_versions(context: Context, clients: ReleaseClients, stack_id: str, keep: int) -> list[Pruned]:
    """Prune every function of the stack (see `prune_function`); report it; an endpoint without versions: skipped."""
    functions = sorted(p for t, p in stack_resources(context, stack_id).values() if t == FUNCTION_TYPE)
    results = []
    try:
        for function_name in functions:
            results.append(prune_function(context, clients.lambda_, function_name, keep))
    except (ResponseParserError, ClientError) as error:
        if not _lacks(error):
            raise
        context.console.info("note: the endpoint cannot list or delete Lambda versions: old versions were not pruned")
        return results
    for pruned in results:
        if pruned.deleted:
            kept = f"; kept older {', '.join(pruned.in_use)} (in use)" if pruned.in_use else ""
            context.console.info(f"Pruned versions {', '.join(pruned.deleted)} of {pruned.function} "
                                 f"(keeping the newest {keep}){kept}")  # fmt: skip
    return results
