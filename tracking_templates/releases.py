"""Safe releases: each function's `live` alias, moved to a new version by CodeDeploy, rolled back on alarm.

Every caller invokes a function through its alias. When a stack update publishes a new version
(compute.py says when), CloudFormation hands the alias update to CodeDeploy
(`UpdatePolicy.CodeDeployLambdaAliasUpdate`), which shifts traffic as the environment's
deployment configuration says (all at once, linear, canary) and moves it back, failing the
stack update, when the deployment fails or one of the release alarms fires.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.awslambda import Alias, Function, Version
from troposphere.cloudwatch import Alarm
from troposphere.codedeploy import (
    AlarmConfiguration,
    Application,
    AutoRollbackConfiguration,
    DeploymentGroup,
    DeploymentStyle,
)
from troposphere.codedeploy import Alarm as WatchedAlarm
from troposphere.iam import Role
from troposphere.policies import CodeDeployLambdaAliasUpdate, UpdatePolicy

from .compute import Compute
from .iam import release_role
from .inputs import Inputs, stack_tags
from .names import LIVE_ALIAS, Resources
from .observability import ReleaseAlarms
from .settings import Settings

# Roll back when CodeDeploy fails the deployment and when a watched alarm fires during it.
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


@dataclass(frozen=True, slots=True, kw_only=True)
class Releases:
    """The CodeDeploy application and role, a deployment group and an alias per function."""

    application: Application
    role: Role
    api_group: DeploymentGroup
    notifier_group: DeploymentGroup
    api_alias: Alias
    notifier_alias: Alias

    @property
    def all(self) -> tuple[Role | Application | DeploymentGroup | Alias, ...]:
        """Every resource, in a fixed order."""
        return (self.role, self.application, self.api_group, self.notifier_group, self.api_alias,
                self.notifier_alias)


def _group(logical_id: str, settings: Settings, inputs: Inputs, application: Application, role: Role,
           alarms: tuple[Alarm, ...]) -> DeploymentGroup:
    return DeploymentGroup(
        logical_id,
        ApplicationName=Ref(application),
        DeploymentConfigName=settings.release.deployment_config,
        # The only style CodeDeploy has for Lambda: a new version, traffic moved by the alias.
        DeploymentStyle=DeploymentStyle(DeploymentType="BLUE_GREEN", DeploymentOption="WITH_TRAFFIC_CONTROL"),
        ServiceRoleArn=GetAtt(role, "Arn"),
        AutoRollbackConfiguration=AutoRollbackConfiguration(Enabled=True, Events=list(ROLLBACK_EVENTS)),
        AlarmConfiguration=AlarmConfiguration(Enabled=True, Alarms=[WatchedAlarm(Name=Ref(a)) for a in alarms]),
        Tags=stack_tags(inputs),
    )


def _alias(logical_id: str, function: Function, version: Version, application: Application,
           group: DeploymentGroup) -> Alias:
    return Alias(
        logical_id,
        Name=LIVE_ALIAS,
        FunctionName=Ref(function),
        FunctionVersion=GetAtt(version, "Version"),
        Description=Sub("The released version of ${Function}; CodeDeploy moves it", Function=Ref(function)),
        # troposphere 4.11 types these two as booleans: a Ref passes its validator, a string would not.
        UpdatePolicy=UpdatePolicy(
            CodeDeployLambdaAliasUpdate=CodeDeployLambdaAliasUpdate(
                ApplicationName=Ref(application), DeploymentGroupName=Ref(group)
            )
        ),
        # These Refs also order the alias after the group, so after its alarms: they watch the new
        # version before the shift starts (cfn-lint W3005 confirms CloudFormation counts them).
    )


def releases(settings: Settings, inputs: Inputs, funcs: Compute, alarms: ReleaseAlarms) -> Releases:
    """An alias per function, shifted to each new version by CodeDeploy as the environment's settings say."""
    application = Application(Resources.RELEASE_APPLICATION, ComputePlatform="Lambda", Tags=stack_tags(inputs))
    role = release_role(inputs, (funcs.api_function, funcs.notifier_function), alarms.all)
    api_group = _group(Resources.API_DEPLOYMENT_GROUP, settings, inputs, application, role, alarms.api)
    notifier_group = _group(Resources.NOTIFIER_DEPLOYMENT_GROUP, settings, inputs, application, role, alarms.notifier)
    return Releases(
        application=application,
        role=role,
        api_group=api_group,
        notifier_group=notifier_group,
        api_alias=_alias(Resources.API_ALIAS, funcs.api_function, funcs.api_version, application, api_group),
        notifier_alias=_alias(Resources.NOTIFIER_ALIAS, funcs.notifier_function, funcs.notifier_version,
                              application, notifier_group),
    )
