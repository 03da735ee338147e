"""Lambda entry point (Handler `handler.main`): the table's stream in, status notifications out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from status_notifier import clients, snapstart
from status_notifier.config import NotifierConfig
from status_notifier.notifier import StatusNotifier
from status_notifier.observability import logger, metrics, tracer

# Report failures per record even when all of them fail: the response is always the partial
# batch response, and the event source mapping retries from the first failed sequence number.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
# A SnapStart restore re-seeds `random` and forgets the clients and the cached flags.
snapstart.register(clients.reset)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Publish one SNS message per stream record that calls for one; report the failed records."""
    notifier = StatusNotifier(NotifierConfig.from_environ())
    return process_partial_response(event=event, record_handler=notifier.handle, processor=processor, context=context)
