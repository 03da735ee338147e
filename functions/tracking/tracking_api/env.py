"""Names of the environment variables the tracking API reads: the template sets exactly these.

This module is the single source of truth for them. It imports nothing, so the template
generator can load it without pulling in the Lambda's dependencies.
"""

TABLE_NAME = "TABLE_NAME"
ENVIRONMENT = "ENVIRONMENT"
CONFIG_PARAM = "CONFIG_PARAM"
DB_PARAM = "DB_PARAM"
FEATURE_FLAGS_PARAM = "FEATURE_FLAGS_PARAM"
LOG_LEVEL = "LOG_LEVEL"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

ALL = (
    TABLE_NAME,
    ENVIRONMENT,
    CONFIG_PARAM,
    DB_PARAM,
    FEATURE_FLAGS_PARAM,
    LOG_LEVEL,
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
)
