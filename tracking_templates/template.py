"""Composes the resource groups into the one CloudFormation template (the only code touching it)."""

from __future__ import annotations

from troposphere import FindInMap, GetAtt, Output, Partition, Ref, Sub, Template

from .api import api
from .compute import compute, stream_mapping
from .encryption import encryption
from .iam import iam
from .inputs import inputs
from .logs import logs
from .names import MoreOutputs, Outputs
from .notifications import notifications
from .observability import observability, release_alarms
from .parameters import parameters
from .releases import releases
from .settings import Settings
from .storage import storage

DESCRIPTION = "Logistics tracking: REST API, DynamoDB table, status notifications and monitoring"
# The console's host per partition: the one URL part no pseudo parameter gives.
CONSOLE_MAPPING = "PartitionConsole"
CONSOLE_HOSTS = {
    "aws": {"Host": "console.aws.amazon.com"},
    "aws-cn": {"Host": "console.amazonaws.cn"},
    "aws-us-gov": {"Host": "console.amazonaws-us-gov.com"},
}


def build_template(settings: Settings) -> Template:
    """The whole stack for `settings`, every group built from the groups it refers to."""
    t = Template(Description=DESCRIPTION)
    t.set_version()
    ins = inputs(settings)
    for parameter in ins.parameters:
        t.add_parameter(parameter)
    for name, condition in ins.conditions.items():
        t.add_condition(name, condition)
    t.add_mapping(CONSOLE_MAPPING, CONSOLE_HOSTS)

    enc = encryption(ins)
    store = storage(settings, ins, enc)
    notes = notifications(ins, enc)
    params = parameters(store)
    log = logs(settings, ins, enc)
    roles = iam(ins, enc, store, notes, params, log)
    funcs = compute(settings, ins, enc, store, notes, params, log, roles)
    watch_release = release_alarms(settings, ins, notes, funcs)
    release = releases(settings, ins, funcs, watch_release)
    mapping = stream_mapping(settings, store, release.notifier_alias)
    gateway = api(settings, ins, enc, release, log)
    watch = observability(settings, store, notes, funcs, gateway, watch_release)

    t.add_resource(enc.key)
    t.add_resource([store.table, store.state_table, store.idempotency_table, store.dlq, notes.topic,
                    notes.email_subscription, *params.all])
    t.add_resource([log.api_function, log.notifier_function, log.api_access, roles.api_role, roles.notifier_role])
    t.add_resource([funcs.api_function, funcs.notifier_function, funcs.api_version, funcs.notifier_version])
    t.add_resource([*release.all, mapping])
    t.add_resource([gateway.rest_api, *gateway.resources, gateway.model, gateway.validator, *gateway.methods])
    t.add_resource([*gateway.permissions, *gateway.account_logging, gateway.execution_log, gateway.deployment,
                    gateway.stage])
    t.add_resource([*watch.alarms, watch.dashboard])

    # Outputs read only Refs and attributes of resources every emulator creates (no Stage,
    # Model or Alarm attributes), so the stack's outputs resolve everywhere.
    t.add_output(
        [
            Output(
                Outputs.API_ENDPOINT,
                Description="Base URL of the API's stage",
                Value=Sub("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Environment}",
                          Api=Ref(gateway.rest_api)),
            ),
            Output(Outputs.TABLE_NAME, Description="The tracking table", Value=Ref(store.table)),
            Output(Outputs.LAMBDA_FUNCTION_NAME, Description="The API function", Value=Ref(funcs.api_function)),
            Output(Outputs.DLQ_URL, Description="The dead-letter queue's URL", Value=Ref(store.dlq)),
            Output(
                Outputs.DASHBOARD_URL,
                Description="The CloudWatch dashboard",
                Value=Sub(
                    "https://${Host}/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}",
                    Host=FindInMap(CONSOLE_MAPPING, Partition, "Host"),
                    Dashboard=Ref(watch.dashboard),
                ),
            ),
            Output(MoreOutputs.API_ID, Description="The REST API's id", Value=Ref(gateway.rest_api)),
            Output(MoreOutputs.STAGE_NAME, Description="The API stage", Value=Ref(ins.environment)),
            Output(MoreOutputs.TABLE_ARN, Description="The tracking table's ARN", Value=GetAtt(store.table, "Arn")),
            Output(MoreOutputs.TABLE_STREAM_ARN, Description="The table's stream",
                   Value=GetAtt(store.table, "StreamArn")),
            Output(MoreOutputs.STATE_TABLE_NAME, Description="Shipments' current state (GET /shipments)",
                   Value=Ref(store.state_table)),
            Output(MoreOutputs.DLQ_ARN, Description="The dead-letter queue's ARN", Value=GetAtt(store.dlq, "Arn")),
            Output(MoreOutputs.NOTIFICATION_TOPIC_ARN, Description="Notifications and alarms",
                   Value=Ref(notes.topic)),
            Output(MoreOutputs.NOTIFIER_FUNCTION_NAME, Description="The stream notifier function",
                   Value=Ref(funcs.notifier_function)),
            Output(MoreOutputs.CONFIG_PARAM_NAME, Description="SSM: API configuration", Value=Ref(params.config)),
            Output(MoreOutputs.DB_PARAM_NAME, Description="SSM: database endpoint", Value=Ref(params.db_endpoint)),
            Output(MoreOutputs.FEATURE_FLAGS_PARAM_NAME, Description="SSM: feature flags",
                   Value=Ref(params.feature_flags)),
        ]
    )
    return t
