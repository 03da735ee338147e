"""What a valid request is: the JSON schema file (shared with API Gateway) plus what DynamoDB can hold.

The schema is compiled once per process with fastjsonschema (compiling costs milliseconds;
validating a body costs microseconds). Checks the schema cannot express (numbers DynamoDB can
store, text it can encode, nesting depth, body size) live here too, so a request that passes
is one DynamoDB accepts: a bad request is a 400, never a 500 from the table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    Clamped,
    Context,
    Decimal,
    DecimalException,
    Inexact,
    Overflow,
    Rounded,
    Underflow,
)
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import jsonio, listing_token, pagination
from .errors import InvalidRequest

if TYPE_CHECKING:
    from fastjsonschema import JsonSchemaValueException

SCHEMA_FILE = Path(__file__).with_name("tracking_update.schema.json")

# Well under DynamoDB's 400 KB item limit whatever the JSON holds (a DynamoDB number or
# list element never takes more than about three times its JSON text).
MAX_BODY_BYTES = 64 * 1024
# Levels of objects/arrays in `metadata`, itself included: well inside DynamoDB's 32 levels.
MAX_METADATA_DEPTH = 16
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_LIMIT_RE = re.compile(r"0*([0-9]{1,3})")  # leading zeros are fine, whatever their number

# DynamoDB's number type: 38 significant digits, magnitude 1E-130 to 9.99...E+125 (or 0).
# The context is boto3.dynamodb.types.DYNAMODB_CONTEXT's (kept here so validation needs no
# boto3); it lets 1E+126 and 1E-131 through, which DynamoDB refuses, hence the range too.
_DYNAMODB_NUMBERS = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)
_SMALLEST = Decimal("1E-130")
_TOO_LARGE = Decimal("1E+126")


@dataclass(frozen=True)
class TrackingUpdate:
    """One accepted POST /track body."""

    tracking_id: str
    status: str
    lat: Decimal
    lng: Decimal
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class StatusQuery:
    """One accepted GET /status query."""

    tracking_id: str
    limit: int = DEFAULT_LIMIT
    start_key: dict[str, Any] | None = None


@dataclass(frozen=True)
class ShipmentsQuery:
    """One accepted GET /shipments query: the status, the page size and each shard's position."""

    status: str
    limit: int
    positions: tuple[int, ...]


# The schema's patterns, said in words (fastjsonschema would say "must match pattern \\S").
_PATTERN_MEANINGS = {"\\S": "must not be blank"}


def load_schema() -> dict[str, Any]:
    """The request schema, as API Gateway's model also loads it."""
    return json.loads(SCHEMA_FILE.read_bytes())  # JSON is UTF-8 whatever the locale


@lru_cache(maxsize=None)
def _compiled(pointer: str) -> Callable[[Any], Any]:
    import fastjsonschema  # deferred: only the first request of a process pays for it

    root = schema = load_schema()
    for part in filter(None, pointer.split("/")):
        schema = schema[part]
    # A part of the schema is still read with the whole schema's draft (draft-04).
    return fastjsonschema.compile({"$schema": root["$schema"], **schema})


def _check_schema(pointer: str, value: Any, root_name: str) -> None:
    from fastjsonschema import JsonSchemaValueException

    validate = _compiled(pointer)  # a broken schema file is our fault: not caught, a 500
    try:
        validate(value)
    except JsonSchemaValueException as exc:
        raise InvalidRequest(_describe(exc, root_name)) from None


def _describe(exc: JsonSchemaValueException, root_name: str) -> str:
    """fastjsonschema's message, with its `data.x.y` names turned into the client's field names."""
    name = exc.name  # "data" for the value itself, "data.location.lat" below it
    field = name[len("data.") :] if name.startswith("data.") else root_name
    if exc.rule == "pattern" and exc.rule_definition in _PATTERN_MEANINGS:
        return f"{field} {_PATTERN_MEANINGS[exc.rule_definition]}"
    message = exc.message
    if message.startswith(name):
        message = field + message[len(name) :]
    return message


def _path(parent: str, key: object) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def check_storable(value: Any, name: str, max_depth: int) -> None:
    """Refuse what DynamoDB would refuse: odd numbers, unencodable text, empty keys, deep nesting."""
    stack: list[tuple[str, Any, int]] = [(name, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, Decimal):
            if not _is_dynamodb_number(item):
                raise InvalidRequest(
                    f"{path} must be a number with at most 38 significant digits "
                    "and a magnitude between 1e-130 and 1e125"
                )
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise InvalidRequest(f"{path} is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if key == "":
                        raise InvalidRequest(f"{path} must not have an empty key")
                    _check_text(key, path)
                    stack.append((_path(path, key), child, depth + 1))
            else:
                stack.extend((_path(path, i), child, depth + 1) for i, child in enumerate(item))


def _is_dynamodb_number(number: Decimal) -> bool:
    try:
        _DYNAMODB_NUMBERS.create_decimal(number)
    except DecimalException:
        return False
    magnitude = number.copy_abs()  # abs() would round to 28 digits
    return not magnitude or _SMALLEST <= magnitude < _TOO_LARGE


def _check_text(text: str, path: str) -> None:
    try:
        text.encode()  # UTF-8, strict
    except UnicodeEncodeError:
        # JSON lets "\ud800" through; UTF-8 (and so DynamoDB) has no lone surrogates.
        raise InvalidRequest(f"{path} must be valid Unicode text") from None


def parse_tracking_update(body: str | None) -> TrackingUpdate:
    """Validate a POST /track body (text) and return the update it describes."""
    if body is None or body == "":
        raise InvalidRequest("Request body is required")
    if len(body) > MAX_BODY_BYTES or len(body.encode(errors="surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidRequest(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    data = jsonio.loads(body)
    _check_schema("", data, "body")
    # The schema fixed the shape around `metadata` (one level below the body); only it can be deep.
    check_storable(data, "body", max_depth=MAX_METADATA_DEPTH + 1)
    location = data["location"]
    return TrackingUpdate(
        tracking_id=data["tracking_id"],
        status=data["status"],
        lat=location["lat"],
        lng=location["lng"],
        metadata=data.get("metadata"),
    )


def parse_limit(raw: str | None) -> int:
    """The page size: absent means the default; otherwise a plain integer within 1..MAX_LIMIT."""
    if raw is None:
        return DEFAULT_LIMIT
    digits = _LIMIT_RE.fullmatch(raw) if isinstance(raw, str) else None
    if digits and 1 <= int(digits[1]) <= MAX_LIMIT:
        return int(digits[1])
    raise InvalidRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")


def parse_status_query(params: Mapping[str, str] | None) -> StatusQuery:
    """Validate GET /status query parameters (tracking_id, limit, last_key)."""
    params = params or {}
    tracking_id = params.get("tracking_id")
    if tracking_id is None:
        raise InvalidRequest("tracking_id is required")
    _check_schema("properties/tracking_id", tracking_id, "tracking_id")
    _check_text(tracking_id, "tracking_id")
    limit = parse_limit(params.get("limit"))
    token = params.get("last_key")
    start_key = None if token is None else pagination.decode(token, tracking_id)
    return StatusQuery(tracking_id=tracking_id, limit=limit, start_key=start_key)


def parse_shipments_query(params: Mapping[str, str] | None, shards: int) -> ShipmentsQuery:
    """Validate GET /shipments query parameters (status, limit, last_key) for a listing of `shards` shards."""
    params = params or {}
    status = params.get("status")
    if status is None:
        raise InvalidRequest("status is required")
    _check_schema("properties/status", status, "status")  # the statuses POST /track accepts
    limit = parse_limit(params.get("limit"))
    token = params.get("last_key")
    if token is None:
        positions = listing_token.first_page(shards)
    else:
        positions = listing_token.decode(token, status, shards)
    return ShipmentsQuery(status=status, limit=limit, positions=positions)
