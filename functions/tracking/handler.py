"""The tracking API Lambda: API Gateway REST proxy events in, JSON answers out (Handler `handler.main`).

This module only translates HTTP to domain calls and back; what a valid update is, how it is
stored and how pages are tokenised live in the `tracking_api` package. Every error is raised
and turned into an answer in one place (the exception handlers below).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from tracking_api import aws, env, flags, idempotency, jsonio, listing_token, pagination, snapstart, validation
from tracking_api.errors import InvalidRequest, Refused
from tracking_api.listing import ShipmentListing
from tracking_api.observability import logger, metrics, tracer
from tracking_api.storage import TrackingStore

STORED = "TrackingUpdateStored"
STORE_FAILED = "TrackingUpdateFailed"
QUERY_OK = "StatusQuerySuccess"
QUERY_FAILED = "StatusQueryFailed"
LISTING_OK = "ShipmentsListingSuccess"
LISTING_FAILED = "ShipmentsListingFailed"
UNHANDLED = "UnhandledException"
INTERNAL_ERROR = "Internal server error"

T = TypeVar("T")
app = APIGatewayRestResolver(serializer=jsonio.dumps)
# A SnapStart restore re-seeds `random` and forgets clients and remembered flag failures.
snapstart.register(aws.reset, flags.reset)


def _dynamodb() -> Any:
    # One client for both tables; a listing page queries every shard of a status at once.
    return aws.client("dynamodb", parallel_requests=_listing_shards())


def _store() -> TrackingStore:
    return TrackingStore(
        _dynamodb(),
        table_name=os.environ[env.TABLE_NAME],
        environment=os.environ.get(env.ENVIRONMENT, ""),
    )


def _listing() -> ShipmentListing:
    return ShipmentListing(
        _dynamodb(),
        table_name=os.environ[env.STATE_TABLE_NAME],
        index_name=os.environ[env.STATE_INDEX_NAME],
    )


def _listing_shards() -> int:
    # Set by the template from the environment's settings; a bad value is a deployment fault (500).
    return int(os.environ[env.LISTING_SHARDS])


def _feature_flags() -> dict[str, bool]:
    current = flags.load(os.environ.get(env.FEATURE_FLAGS_PARAM))
    logger.debug("Feature flags", extra={"feature_flags": current})
    return current


def _request_text() -> str | None:
    """The request body as text (API Gateway base64-encodes it for binary media types)."""
    event = app.current_event
    body = event.body
    if body is None or not event.is_base64_encoded:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("Request body is not valid base64-encoded UTF-8") from None


def _query_parameters() -> dict[str, str]:
    """The query's parameters, one value each (the last, as API Gateway's single-value map holds)."""
    event = app.current_event
    single = event.query_string_parameters
    if single:
        return single
    # An event that carries only the multi-value map (hand-made test events, some tools) means the same.
    multi = event.multi_value_query_string_parameters
    return {name: values[-1] for name, values in multi.items() if isinstance(values, list) and values}


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def _counted(call: Callable[[], T], ok: str, failed: str) -> T:
    """call()'s result, counted in metric `ok`, or its exception, counted in `failed` and re-raised."""
    try:
        result = call()
    except Exception:
        _count(failed)
        raise
    _count(ok)
    return result


def _store_update(update: validation.TrackingUpdate) -> dict[str, Any]:
    timestamp = _counted(lambda: _store().put_update(update), STORED, STORE_FAILED)
    # Not "timestamp": powertools' formatter writes the log record's own time under that key.
    logger.info("Tracking update stored", extra={"tracking_id": update.tracking_id, "update_timestamp": timestamp})
    return {"message": "Tracking update stored", "tracking_id": update.tracking_id, "timestamp": timestamp}


@app.post("/track")
def track() -> dict[str, Any]:
    """Store one tracking update (once per Idempotency-Key, when the request carries one)."""
    update = validation.parse_tracking_update(_request_text())
    event = app.current_event.raw_event
    key = idempotency.key_from(event.get("headers"), event.get("multiValueHeaders"))
    _feature_flags()
    if key is None:
        return _store_update(update)
    return idempotency.once(
        key,
        update,
        lambda: _store_update(update),
        table_name=os.environ[env.IDEMPOTENCY_TABLE_NAME],
        context=app.lambda_context,
    )


@app.get("/status")
def status() -> dict[str, Any]:
    """A page of one shipment's updates, newest first."""
    query = validation.parse_status_query(_query_parameters())
    _feature_flags()
    page = _counted(lambda: _store().query_updates(query.tracking_id, query.limit, query.start_key),
                    QUERY_OK, QUERY_FAILED)
    body: dict[str, Any] = {"tracking_id": query.tracking_id, "updates": page.items, "count": len(page.items)}
    if page.last_key is not None:
        body["next_key"] = pagination.encode(page.last_key["tracking_id"], int(page.last_key["timestamp"]))
    return body


@app.get("/shipments")
def shipments() -> dict[str, Any]:
    """A page of the shipments whose latest update has one status, newest latest-update first."""
    query = validation.parse_shipments_query(_query_parameters(), _listing_shards())
    _feature_flags()
    listing = _counted(lambda: _listing().page(query.status, query.limit, query.positions), LISTING_OK, LISTING_FAILED)
    body: dict[str, Any] = {"status": query.status, "shipments": listing.items, "count": len(listing.items)}
    if listing.positions is not None:
        body["next_key"] = listing_token.encode(query.status, listing.positions)
    return body


def _error(status_code: int, message: str) -> Response:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body={"error": message})


@app.exception_handler(InvalidRequest)
def _invalid_request(exc: InvalidRequest) -> Response:
    logger.info("Request rejected", extra={"reason": exc.message})
    return _error(400, exc.message)


@app.exception_handler(Refused)
def _refused(exc: Refused) -> Response:
    logger.info("Request refused", extra={"reason": exc.message, "status_code": exc.status_code})
    return _error(exc.status_code, exc.message)


@app.not_found
def _not_found(_: Exception) -> Response:
    return _error(404, "Not found")


@app.exception_handler(Exception)
def _internal_error(exc: Exception) -> Response:
    # The detail (and the correlation id) goes to the log; the client learns nothing internal.
    logger.exception("Unhandled exception")
    _count(UNHANDLED)
    return _error(500, INTERNAL_ERROR)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def main(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: resolve the API Gateway event to a route."""
    return app.resolve(event, context)
