"""The SNS message of a notification: JSON body, readable subject, filterable attributes."""

from __future__ import annotations

import hashlib

from . import jsonwriter
from .records import Notification

# SNS subjects: ASCII printable, no line breaks, "less than 100 characters".
SUBJECT_MAX_CHARS = 99
_ELLIPSIS = "..."
_STATUS_PHRASES = {"delivered": "delivered", "failed": "delivery failed", "in_transit": "in transit"}

# Message attribute names: subscribers filter on STATUS and de-duplicate on NOTIFICATION_ID.
STATUS_ATTRIBUTE = "status"
NOTIFICATION_ID_ATTRIBUTE = "notification_id"


def body(notification: Notification) -> str:
    """The message body: a JSON object with location, status, timestamp (epoch ms), tracking_id.

    Written as the API writes its answers, numbers with every digit stored; keys in sorted order.
    """
    return jsonwriter.dumps(
        {
            "location": dict(sorted(notification.location.items())),
            "status": notification.status,
            "timestamp": notification.timestamp,
            "tracking_id": notification.tracking_id,
        }
    )


def subject(notification: Notification, environment: str = "") -> str:
    """A one-line subject within SNS's limits, e.g. `[prod] Shipment PKG-1: delivery failed`."""
    prefix = f"[{_printable(environment)}] " if environment else ""
    phrase = _printable(_STATUS_PHRASES.get(notification.status, notification.status.replace("_", " ")))
    room = SUBJECT_MAX_CHARS - len(prefix) - len("Shipment : ") - len(phrase)
    shipment = _shorten(_printable(notification.tracking_id), max(room, len(_ELLIPSIS)))
    return _shorten(f"{prefix}Shipment {shipment}: {phrase}", SUBJECT_MAX_CHARS)


def notification_id(notification: Notification) -> str:
    """A deterministic id of the notification: the same stream record always gives the same id."""
    # The item's key (tracking_id, timestamp) is unique per INSERT; the timestamp is digits only,
    # so the last NUL separates the two parts unambiguously.
    key = f"{notification.tracking_id}\0{notification.timestamp}".encode()
    return hashlib.sha256(key).hexdigest()


def attributes(notification: Notification) -> dict[str, dict[str, str]]:
    """SNS message attributes: `status` for filter policies, `notification_id` for de-duplication."""
    return {
        STATUS_ATTRIBUTE: {"DataType": "String", "StringValue": notification.status},
        NOTIFICATION_ID_ATTRIBUTE: {"DataType": "String", "StringValue": notification_id(notification)},
    }


def _printable(text: str) -> str:
    """Replace what SNS refuses in a subject (non-ASCII, control characters) with `?`."""
    return "".join(char if " " <= char <= "~" else "?" for char in text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS
