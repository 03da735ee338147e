"""The API's routes, declared once: the template's API Gateway resources and methods (`api.py`)
and the OpenAPI document (`openapi.py`) are both built from these.
"""

from __future__ import annotations

from typing import NamedTuple

from . import sources

# GET pages: `limit` is 1..MAX_LIMIT, default DEFAULT_LIMIT (the handler's
# tracking_api/validation.py holds the rule; a test checks these agree with it).
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


# NamedTuples, not dataclasses: the generator builds these on every start-up, and a frozen
# dataclass costs about 5 M instructions to create on Python 3.11 (a NamedTuple 2 M).
class Parameter(NamedTuple):
    """One request parameter: where it goes, whether API Gateway requires it, its JSON schema."""

    name: str
    location: str  # "querystring" or "header" (API Gateway's words; OpenAPI says "query", "header")
    required: bool
    description: str
    schema: dict


class Route(NamedTuple):
    """One method on one path, proxied to the API function."""

    method: str
    path: str  # one segment under the root: "track"
    resource_id: str  # logical ids in the template
    method_id: str
    operation_id: str  # the OpenAPI operation (and the client's command)
    summary: str
    # The OpenAPI component that describes a 200 answer.
    answer: str
    parameters: tuple[Parameter, ...] = ()
    # The request body is a TrackingUpdate (the schema file the model and the handler use).
    body: bool = False

    def request_parameters(self) -> dict[str, bool]:
        """The Method's RequestParameters: `method.request.<location>.<name>` -> required."""
        return {f"method.request.{p.location}.{p.name}": p.required for p in self.parameters}


def _update_property(name: str) -> dict:
    # A field of the request schema, so a query parameter and the body agree on what it is.
    return sources.tracking_update_schema()["properties"][name]


def _page_parameters() -> tuple[Parameter, ...]:
    return (
        Parameter(name="limit", location="querystring", required=False,
                  description=f"page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
                  schema={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        Parameter(name="last_key", location="querystring", required=False,
                  description="the previous page's next_key (an opaque token), to read the next page",
                  schema={"type": "string"}),
    )


def routes() -> tuple[Route, ...]:
    """POST /track, GET /status and GET /shipments, in the template's order."""
    return (
        Route(method="POST", path="track", resource_id="TrackResource", method_id="TrackPostMethod", operation_id="track",
              summary="Store one tracking update", body=True, answer="TrackAnswer"),
        Route(method="GET", path="status", resource_id="StatusResource", method_id="StatusGetMethod", operation_id="status",
              summary="A page of one shipment's updates, newest first", answer="StatusPage",
              parameters=(Parameter(name="tracking_id", location="querystring", required=True,
                                    description="the shipment", schema=_update_property("tracking_id")),
                          *_page_parameters())),
        Route(method="GET", path="shipments", resource_id="ShipmentsResource", method_id="ShipmentsGetMethod", operation_id="shipments",
              summary="A page of the shipments whose latest update has this status, newest first",
              answer="ShipmentsPage",
              parameters=(Parameter(name="status", location="querystring", required=True,
                                    description="the status of the shipments' latest update",
                                    schema=_update_property("status")),
                          *_page_parameters())),
    )
