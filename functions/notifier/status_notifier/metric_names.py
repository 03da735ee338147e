"""Names of the CloudWatch metrics the notifier emits (dimension `service`).

Import-free, like env.py, so the template generator can load it for its alarms.
"""

# One SNS message published for a stream record.
NOTIFICATION_PUBLISHED = "NotificationPublished"
# A record that needed a notification could not be published; it is reported for retry.
NOTIFICATION_FAILED = "NotificationFailed"
# A record that needed a notification but could not be read (missing or mistyped fields):
# retrying cannot fix it, so it is logged and skipped.
NOTIFICATION_MALFORMED = "NotificationMalformed"

# The current-state projection: a shipment's state moved forward, or the update was older than
# (or the same as) the stored state and changed nothing, or the write failed (retried).
STATE_PROJECTED = "StateProjected"
STATE_UNCHANGED = "StateUnchanged"
STATE_PROJECTION_FAILED = "StateProjectionFailed"

ALL = (
    NOTIFICATION_PUBLISHED,
    NOTIFICATION_FAILED,
    NOTIFICATION_MALFORMED,
    STATE_PROJECTED,
    STATE_UNCHANGED,
    STATE_PROJECTION_FAILED,
)
