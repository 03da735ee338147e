"""One role per function, each composed of the policies its code needs and nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Policy, Statement
from troposphere import Sub
from troposphere.iam import Policy as InlinePolicy
from troposphere.awslambda import Function
from troposphere.cloudwatch import Alarm
from troposphere.iam import Role

from . import policies
from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .logs import Logs
from .names import STATE_INDEX, Resources
from .notifications import Notifications
from .parameters import Parameters
from .storage import Storage


@dataclass(frozen=True, slots=True, kw_only=True)
class Iam:
    """The API function's role and the notifier's role."""

    api_role: Role
    notifier_role: Role


def _service_role(
    logical_id: str, policy_name: str, statements: list[Statement], inputs: Inputs, service: str = "lambda.amazonaws.com"
) -> Role:
    return Role(
        logical_id,
        AssumeRolePolicyDocument=policies.assumed_by(service),
        # Inline, so the permissions exist the moment the role does (the event source mapping
        # checks them when it is created).
        Policies=[
            InlinePolicy(
                PolicyName=Sub(policy_name + "-${Environment}"),
                PolicyDocument=Policy(Version="2012-10-17", Statement=statements),
            )
        ],
        Tags=stack_tags(inputs),
    )


def iam(inputs: Inputs, enc: Encryption, store: Storage, notes: Notifications, params: Parameters, log: Logs) -> Iam:
    """Least-privilege roles: every resource named, `*` only where AWS has no resource type."""
    api_role = _service_role(
        "TrackingFunctionRole",
        "tracking-processor",
        [
            policies.table_put_and_query(store.table),
            policies.index_query(store.state_table, STATE_INDEX),
            policies.idempotency_records(store.idempotency_table),
            policies.parameters_read(params.feature_flags),
            policies.log_group_write(log.api_function),
            policies.xray_write(),
            policies.queue_send(store.dlq),
            policies.key_use(enc.key),
        ],
        inputs,
    )
    notifier_role = _service_role(
        "NotifierFunctionRole",
        "tracking-notifier",
        [
            policies.stream_read(store.table),
            policies.stream_list(),
            policies.state_write(store.state_table),
            policies.topic_publish(notes.topic),
            policies.queue_send(store.dlq),
            policies.parameters_read(params.feature_flags),
            policies.log_group_write(log.notifier_function),
            policies.xray_write(),
            policies.key_use(enc.key),
        ],
        inputs,
    )
    return Iam(api_role=api_role, notifier_role=notifier_role)


def release_role(inputs: Inputs, functions: tuple[Function, ...], alarms: tuple[Alarm, ...]) -> Role:
    """CodeDeploy's service role: move these functions' `live` alias and read these alarms, nothing more.

    Not AWS's managed AWSCodeDeployRoleForLambda: it grants UpdateAlias on every function, SNS
    Publish and S3 reads on `*`, for hooks and triggers this stack does not use.
    """
    return _service_role(
        Resources.RELEASE_ROLE,
        "tracking-release",
        [policies.alias_shift(*functions), policies.alarms_read(*alarms)],
        inputs,
        service="codedeploy.amazonaws.com",
    )
