"""Names of the environment variables the notifier reads: the template sets exactly these.

Single source of truth, import-free so the template generator can load it.
"""

TOPIC_ARN = "TOPIC_ARN"
NOTIFY_STATUSES = "NOTIFY_STATUSES"
FEATURE_FLAGS_PARAM = "FEATURE_FLAGS_PARAM"
ENVIRONMENT = "ENVIRONMENT"
LOG_LEVEL = "LOG_LEVEL"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

# Default of NOTIFY_STATUSES when the variable is unset (comma-separated).
DEFAULT_NOTIFY_STATUSES = "delivered,failed"

ALL = (
    TOPIC_ARN,
    NOTIFY_STATUSES,
    FEATURE_FLAGS_PARAM,
    ENVIRONMENT,
    LOG_LEVEL,
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
)
