"""Public names of the stack: template parameters, outputs and naming patterns.

Everything outside the generator (deploy, local, tests) imports these instead of repeating
the strings.
"""

from __future__ import annotations

import re

# An environment name: used in resource names, the stage name and SSM paths.
ENV_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
ENV_RE = re.compile(ENV_PATTERN)


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
