"""Names of the environment variables the tracking API reads: the template sets exactly these.

This module is the single source of truth for them. It imports nothing, so the template
generator can load it without pulling in the Lambda's dependencies.
"""

TABLE_NAME = "TABLE_NAME"
ENVIRONMENT = "ENVIRONMENT"
FEATURE_FLAGS_PARAM = "FEATURE_FLAGS_PARAM"
LOG_LEVEL = "LOG_LEVEL"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
# GET /shipments: the state table, its listing index, and how many shards each status has.
STATE_TABLE_NAME = "STATE_TABLE_NAME"
STATE_INDEX_NAME = "STATE_INDEX_NAME"
LISTING_SHARDS = "LISTING_SHARDS"
# POST /track with an Idempotency-Key: the table powertools keeps the keys' first answers in.
IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"

ALL = (
    TABLE_NAME,
    ENVIRONMENT,
    FEATURE_FLAGS_PARAM,
    LOG_LEVEL,
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
    STATE_TABLE_NAME,
    STATE_INDEX_NAME,
    LISTING_SHARDS,
    IDEMPOTENCY_TABLE_NAME,
)
