"""One invocation's work per stream record: project the shipment's current state, then notify.

The projection comes first: a record whose state write fails is reported for retry before it
notifies, and on the retry the write is a no-op if it had landed (it only moves forward).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import metric_names
from .config import NotifierConfig
from .flags import real_time_notifications_enabled
from .observability import logger, metrics
from .ordering import Arrival
from .projection import Projection
from .publisher import WORST_CASE_PUBLISH_MS, publish
from .records import INSERT, MalformedRecord, Notification, new_image_json, notification_for


class OutOfTime(RuntimeError):
    """Too little of the invocation is left to be sure one more publish finishes."""


class Outcome(str, Enum):
    """What became of a record that did not fail."""

    PUBLISHED = "published"
    NOT_NEEDED = "not_needed"
    FLAG_OFF = "flag_off"
    MALFORMED = "malformed"


class StatusNotifier:
    """Handles the records of one batch (create one per invocation)."""

    def __init__(
        self,
        config: NotifierConfig,
        read_flag: Callable[[str], bool] = real_time_notifications_enabled,
        send: Callable[[str, Notification, str], str] = publish,
    ) -> None:
        self._config = config
        self._projection = Projection(config.state_table_name, config.listing_shards)
        self._read_flag = read_flag
        self._send = send
        self._flag: bool | None = None
        self._flag_error: Exception | None = None

    def handle(self, record: DynamoDBRecord, lambda_context: LambdaContext | None = None) -> Outcome:
        """Project the record's update into the current state, then notify if it calls for it; raise on failure.

        powertools' BatchProcessor passes `lambda_context` because this signature names it.
        """
        stream_record = record.raw_event.get("dynamodb")
        sequence_number = stream_record.get("SequenceNumber") if isinstance(stream_record, dict) else None
        with logger.append_context_keys(sequence_number=sequence_number, event_id=record.raw_event.get("eventID")):
            try:
                self._project(record)
                notification = notification_for(record, self._config.notify_statuses)
            except MalformedRecord as error:
                # Retrying cannot repair a record, and a retried record holds up its whole shard
                # until it expires: log it (with its position, to find it in the stream) and move on.
                logger.error("Malformed stream record skipped", extra={"reason": str(error)})
                metrics.add_metric(name=metric_names.NOTIFICATION_MALFORMED, unit=MetricUnit.Count, value=1)
                return Outcome.MALFORMED
            if notification is None:
                return Outcome.NOT_NEEDED
            return self._notify(notification, lambda_context)

    def _project(self, record: DynamoDBRecord) -> None:
        """Move the shipment's current state to this update, unless a newer one is stored."""
        if record.raw_event.get("eventName") != INSERT:
            return  # the API only inserts; nothing else is an update
        image = new_image_json(record)
        try:
            arrival = self._projection.apply(image)
        except MalformedRecord:
            raise
        except Exception:
            logger.exception("Current state not written; the record is reported for retry")
            metrics.add_metric(name=metric_names.STATE_PROJECTION_FAILED, unit=MetricUnit.Count, value=1)
            raise
        if arrival is Arrival.NEWER:
            metrics.add_metric(name=metric_names.STATE_PROJECTED, unit=MetricUnit.Count, value=1)
        else:
            logger.info("Current state unchanged", extra={"arrival": arrival.value})
            metrics.add_metric(name=metric_names.STATE_UNCHANGED, unit=MetricUnit.Count, value=1)

    def _notify(self, notification: Notification, lambda_context: LambdaContext | None) -> Outcome:
        try:
            if not self._flag_is_on():
                return Outcome.FLAG_OFF
            _ensure_time_to_publish(lambda_context)
            message_id = self._send(self._config.topic_arn, notification, self._config.environment)
        except Exception:
            logger.exception(
                "Notification not published; the record is reported for retry",
                extra={"tracking_id": notification.tracking_id, "status": notification.status},
            )
            metrics.add_metric(name=metric_names.NOTIFICATION_FAILED, unit=MetricUnit.Count, value=1)
            raise
        logger.info(
            "Notification published",
            extra={"tracking_id": notification.tracking_id, "status": notification.status, "message_id": message_id},
        )
        metrics.add_metric(name=metric_names.NOTIFICATION_PUBLISHED, unit=MetricUnit.Count, value=1)
        return Outcome.PUBLISHED

    def _flag_is_on(self) -> bool:
        """The flag, read at most once per invocation (and through a 5-minute cache across them).

        A failed read is remembered too: the batch's other records fail at once instead of each
        retrying SSM, and the stream delivers them again for the next attempt.
        """
        if self._flag_error is not None:
            raise self._flag_error
        if self._flag is None:
            try:
                self._flag = self._read_flag(self._config.feature_flags_param)
            except Exception as error:
                self._flag_error = error
                raise
        return self._flag


def _ensure_time_to_publish(lambda_context: LambdaContext | None) -> None:
    """Raise OutOfTime unless a publish, retries included, surely ends before the timeout.

    A timed-out invocation has its whole batch retried, re-sending what was already published;
    reporting the records that no longer fit as failed retries only those.
    """
    if lambda_context is None:
        return
    remaining_ms = lambda_context.get_remaining_time_in_millis()
    if remaining_ms < WORST_CASE_PUBLISH_MS:
        raise OutOfTime(f"{remaining_ms} ms left, a publish may take {WORST_CASE_PUBLISH_MS} ms")
