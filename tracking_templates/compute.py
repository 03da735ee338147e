"""The two Lambda functions, the version each publishes, and the stream mapping that drives the notifier."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, NoValue, Parameter, Ref, Sub
from troposphere.awslambda import (
    Alias,
    Code,
    DeadLetterConfig,
    DestinationConfig,
    Environment,
    EventSourceMapping,
    Filter,
    FilterCriteria,
    Function,
    LoggingConfig,
    OnFailure,
    SnapStart,
    TracingConfig,
    Version,
)

from troposphere.iam import Role
from troposphere.logs import LogGroup

from . import sources
from .encryption import Encryption
from .iam import Iam
from .hashing import properties_hash
from .inputs import HAS_CODE_OBJECT_VERSION, HAS_NOTIFIER_CODE_OBJECT_VERSION, Inputs, stack_tags
from .logs import Logs
from .names import (
    API_FUNCTION_NAME,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    NOTIFIER_FUNCTION_NAME,
    STATE_INDEX,
    Resources,
)
from .notifications import Notifications
from .parameters import Parameters
from .settings import FunctionSettings, Settings
from .storage import Storage
from .suppressions import NO_VPC, STREAM_FAILURES_GO_TO_MAPPING_DLQ, checkov_metadata

HANDLER = "handler.main"
METRICS_NAMESPACE = "LogisticsTracking"
API_SERVICE_NAME = "tracking-api"
NOTIFIER_SERVICE_NAME = "status-notifier"


@dataclass(frozen=True, slots=True, kw_only=True)
class Compute:
    """The API function, the notifier function, and the version each publishes."""

    api_function: Function
    notifier_function: Function
    api_version: Version
    notifier_version: Version


def _environment(names: tuple[str, ...], values: dict[str, object], function: str) -> Environment:
    # The function's env module is the one list of names: a name it reads that the template
    # does not set, or the reverse, is a build error, never a silent drift.
    if set(values) != set(names):
        missing, extra = sorted(set(names) - set(values)), sorted(set(values) - set(names))
        raise ValueError(f"{function} environment drift: not set {missing}, not read {extra}")
    return Environment(Variables={name: values[name] for name in names})


def _function(
    logical_id: str,
    *,
    name: str,
    sizing: FunctionSettings,
    code_key: Parameter,
    code_object_version: Parameter,
    has_object_version: str,
    role: Role,
    log_group: LogGroup,
    environment: Environment,
    inputs: Inputs,
    enc: Encryption,
    **extra: object,
) -> Function:
    return Function(
        logical_id,
        FunctionName=Sub(name),
        Runtime=LAMBDA_RUNTIME,
        Architectures=[LAMBDA_ARCHITECTURE],
        Handler=HANDLER,
        # The object version pins the zip the deploy uploaded, should the key be written again.
        Code=Code(
            S3Bucket=Ref(inputs.code_bucket),
            S3Key=Ref(code_key),
            S3ObjectVersion=If(has_object_version, Ref(code_object_version), NoValue),
        ),
        Role=GetAtt(role, "Arn"),
        MemorySize=sizing.memory_mb,
        Timeout=sizing.timeout_s,
        ReservedConcurrentExecutions=sizing.reserved_concurrency,
        TracingConfig=TracingConfig(Mode="Active"),
        # Naming the group makes the function depend on it, so Lambda never creates it unmanaged.
        LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
        Environment=environment,
        KmsKeyArn=GetAtt(enc.key, "Arn"),
        Tags=stack_tags(inputs),
        **extra,
    )


def _snapstart(settings: Settings) -> dict[str, object]:
    # Published versions restore from a snapshot of the initialised function (see docs/releases.md
    # for why the functions' import-time state is safe to reuse).
    return {"SnapStart": SnapStart(ApplyOn="PublishedVersions")} if settings.release.snapstart else {}


def _version(logical_id: str, function: Function, code_sha256: Parameter) -> Version:
    """The function's published version: replaced (so published anew) exactly when what Lambda runs changes.

    Every property of a Version requires replacement. CodeSha256 comes from the deploy's own zip:
    a code change publishes, and Lambda refuses to publish code other than what was built. The
    Description carries a hash of the function's configuration (all but the code location, which
    CodeSha256 stands for): a configuration change publishes too; nothing else touches the
    Version. Old versions are retained for a manual rollback (the deploy prunes beyond
    keep_versions).
    """
    configuration = properties_hash(function, leave_out=("Code",))
    return Version(
        logical_id,
        FunctionName=Ref(function),
        CodeSha256=Ref(code_sha256),
        Description=f"configuration {configuration}",
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )


def compute(
    settings: Settings,
    inputs: Inputs,
    enc: Encryption,
    store: Storage,
    notes: Notifications,
    params: Parameters,
    log: Logs,
    roles: Iam,
) -> Compute:
    """The functions run the zips the deploy uploaded, with exactly the variables their code reads."""
    t = sources.tracking_env()
    api_function = _function(
        Resources.API_FUNCTION,
        name=API_FUNCTION_NAME,
        sizing=settings.api_function,
        code_key=inputs.code_key,
        code_object_version=inputs.code_object_version,
        has_object_version=HAS_CODE_OBJECT_VERSION,
        role=roles.api_role,
        log_group=log.api_function,
        environment=_environment(
            t.ALL,
            {
                t.TABLE_NAME: Ref(store.table),
                t.ENVIRONMENT: Ref(inputs.environment),
                t.FEATURE_FLAGS_PARAM: Ref(params.feature_flags),
                t.LOG_LEVEL: settings.api_function.log_level,
                t.POWERTOOLS_SERVICE_NAME: API_SERVICE_NAME,
                t.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
                t.STATE_TABLE_NAME: Ref(store.state_table),
                t.STATE_INDEX_NAME: STATE_INDEX,
                t.LISTING_SHARDS: str(settings.listing_shards),
                t.IDEMPOTENCY_TABLE_NAME: Ref(store.idempotency_table),
            },
            "tracking function",
        ),
        inputs=inputs,
        enc=enc,
        Description="Logistics tracking API (POST /track, GET /status, GET /shipments)",
        DeadLetterConfig=DeadLetterConfig(TargetArn=GetAtt(store.dlq, "Arn")),
        Metadata=checkov_metadata(NO_VPC),
        **_snapstart(settings),
    )
    n = sources.notifier_env()
    notifier_function = _function(
        Resources.NOTIFIER_FUNCTION,
        name=NOTIFIER_FUNCTION_NAME,
        sizing=settings.notifier_function,
        code_key=inputs.notifier_code_key,
        code_object_version=inputs.notifier_code_object_version,
        has_object_version=HAS_NOTIFIER_CODE_OBJECT_VERSION,
        role=roles.notifier_role,
        log_group=log.notifier_function,
        environment=_environment(
            n.ALL,
            {
                n.TOPIC_ARN: Ref(notes.topic),
                n.NOTIFY_STATUSES: ",".join(settings.notify_statuses),
                n.FEATURE_FLAGS_PARAM: Ref(params.feature_flags),
                n.ENVIRONMENT: Ref(inputs.environment),
                n.LOG_LEVEL: settings.notifier_function.log_level,
                n.POWERTOOLS_SERVICE_NAME: NOTIFIER_SERVICE_NAME,
                n.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
                n.STATE_TABLE_NAME: Ref(store.state_table),
                n.LISTING_SHARDS: str(settings.listing_shards),
            },
            "notifier function",
        ),
        inputs=inputs,
        enc=enc,
        Description="From the table's stream: shipments' current state, then delivered/failed notifications",
        Metadata=checkov_metadata(NO_VPC, STREAM_FAILURES_GO_TO_MAPPING_DLQ),
        **_snapstart(settings),
    )
    return Compute(
        api_function=api_function,
        notifier_function=notifier_function,
        api_version=_version(Resources.API_VERSION, api_function, inputs.code_sha256),
        notifier_version=_version(Resources.NOTIFIER_VERSION, notifier_function, inputs.notifier_code_sha256),
    )


def stream_mapping(settings: Settings, store: Storage, notifier_alias: Alias) -> EventSourceMapping:
    """The table's stream into the notifier's alias: the version CodeDeploy released gets the records."""
    stream = settings.stream
    return EventSourceMapping(
        Resources.STREAM_MAPPING,
        EventSourceArn=GetAtt(store.table, "StreamArn"),
        FunctionName=Ref(notifier_alias),
        StartingPosition="LATEST",
        BatchSize=stream.batch_size,
        MaximumBatchingWindowInSeconds=stream.batching_window_s,
        # Only new updates can notify: MODIFY/REMOVE records never wake the function.
        FilterCriteria=FilterCriteria(Filters=[Filter(Pattern='{"eventName":["INSERT"]}')]),
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=stream.max_retry_attempts,
        MaximumRecordAgeInSeconds=stream.max_record_age_s,
        DestinationConfig=DestinationConfig(OnFailure=OnFailure(Destination=GetAtt(store.dlq, "Arn"))),
    )
