"""Names of the environment variables the notifier reads: the template sets exactly these.

Single source of truth, import-free so the template generator can load it.
"""

TOPIC_ARN = "TOPIC_ARN"
NOTIFY_STATUSES = "NOTIFY_STATUSES"
FEATURE_FLAGS_PARAM = "FEATURE_FLAGS_PARAM"
ENVIRONMENT = "ENVIRONMENT"
# The current-state projection: the state table and how many listing shards each status has.
STATE_TABLE_NAME = "STATE_TABLE_NAME"
LISTING_SHARDS = "LISTING_SHARDS"
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
    STATE_TABLE_NAME,
    LISTING_SHARDS,
    LOG_LEVEL,
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
)
