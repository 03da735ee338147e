"""Public names of the stack: template parameters, outputs and naming patterns.

Everything outside the generator (deploy, local, tests) imports these instead of repeating
the strings.
"""

from __future__ import annotations

import re

# An environment name: used in resource names, the stage name and SSM paths.
ENV_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
_ENV_RE = re.compile(ENV_PATTERN)  # use is_valid_env: match() alone admits "dev\n"


def is_valid_env(name: object) -> bool:
    """Whether `name` is a valid environment name (whole string: `$` alone admits "dev\\n")."""
    return isinstance(name, str) and _ENV_RE.fullmatch(name) is not None


class Params:
    """Logical names of the template's CloudFormation Parameters."""

    ENVIRONMENT = "Environment"
    CODE_BUCKET = "CodeBucket"
    CODE_KEY = "CodeKey"
    NOTIFIER_CODE_KEY = "NotifierCodeKey"
    NOTIFICATION_EMAIL = "NotificationEmail"


class Outputs:
    """Names of the template's Outputs (public API: scripts and users read them)."""

    API_ENDPOINT = "ApiEndpoint"
    TABLE_NAME = "TableName"
    LAMBDA_FUNCTION_NAME = "LambdaFunctionName"
    DLQ_URL = "DlqUrl"
    DASHBOARD_URL = "DashboardUrl"


# functions/<dir> -> the template parameter that carries its zip's S3 key.
FUNCTION_CODE_KEY_PARAMS = {
    "tracking": Params.CODE_KEY,
    "notifier": Params.NOTIFIER_CODE_KEY,
}

# The Lambda runtime and architecture both functions run on; the package script bundles
# dependency wheels built for exactly this pair.
LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "arm64"


class Resources:
    """Logical ids of the resources other areas look up (deploy guard, local API Gateway)."""

    KEY = "EncryptionKey"
    TABLE = "TrackingTable"
    # One item per shipment: its current state, listed by status through STATE_INDEX.
    STATE_TABLE = "ShipmentStateTable"
    DLQ = "DeadLetterQueue"
    TOPIC = "NotificationTopic"
    EMAIL_SUBSCRIPTION = "NotificationEmailSubscription"
    CONFIG_PARAM = "ApiConfigParameter"
    DB_PARAM = "DbEndpointParameter"
    FEATURE_FLAGS_PARAM = "FeatureFlagsParameter"
    API_FUNCTION = "TrackingFunction"
    NOTIFIER_FUNCTION = "NotifierFunction"
    STREAM_MAPPING = "NotifierStreamMapping"
    REST_API = "TrackingApi"
    REQUEST_MODEL = "TrackingUpdateModel"
    REQUEST_VALIDATOR = "RequestValidator"
    STAGE = "ApiStage"
    DASHBOARD = "Dashboard"
    # The Deployment's logical id is this prefix plus a hash of the API's definition.
    DEPLOYMENT_PREFIX = "ApiDeployment"


class MoreOutputs:
    """Outputs beyond the contract's five (also public: scripts and tests read them)."""

    API_ID = "ApiId"
    STAGE_NAME = "StageName"
    TABLE_ARN = "TableArn"
    TABLE_STREAM_ARN = "TableStreamArn"
    STATE_TABLE_NAME = "StateTableName"
    DLQ_ARN = "DlqArn"
    NOTIFICATION_TOPIC_ARN = "NotificationTopicArn"
    NOTIFIER_FUNCTION_NAME = "NotifierFunctionName"
    CONFIG_PARAM_NAME = "ConfigParameterName"
    DB_PARAM_NAME = "DbParameterName"
    FEATURE_FLAGS_PARAM_NAME = "FeatureFlagsParameterName"


# Physical names, as Fn::Sub patterns over the Environment parameter.
API_FUNCTION_NAME = "tracking-processor-${Environment}"
NOTIFIER_FUNCTION_NAME = "tracking-notifier-${Environment}"
REST_API_NAME = "tracking-api-${Environment}"
# API Gateway's own name for a stage's execution log group (it writes there, whoever created it).
API_EXECUTION_LOG_NAME = "API-Gateway-Execution-Logs_${Api}/${Environment}"
DASHBOARD_NAME = "logistics-tracking-${Environment}"
CONFIG_PARAM_PATH = "/logistics/api/${Environment}/config"
DB_PARAM_PATH = "/logistics/db/${Environment}/endpoint"
FEATURE_FLAGS_PARAM_PATH = "/logistics/features/${Environment}/flags"
# The state table's index that GET /shipments pages through: write-sharded by status.
STATE_INDEX = "CurrentStatusIndex"
# The request model's name in API Gateway (the Method's RequestModels refers to it).
REQUEST_MODEL_NAME = "TrackingUpdate"
# The request validator's name in API Gateway (the OpenAPI document names it too).
REQUEST_VALIDATOR_NAME = "body-and-parameters"
