"""tracking_api.validation: the shared schema plus DynamoDB's limits, with messages naming the field."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tracking_api import validation
from tracking_api.errors import InvalidRequest

from .stack import definitions

VALID = {"tracking_id": "T", "status": "delivered", "location": {"lat": 0, "lng": 0}}


def test_validation_uses_the_schema_file_the_template_loads():
    # GIVEN the template's API Gateway model / THEN its schema is the handler's schema file
    from tracking_templates.sources import tracking_update_schema

    assert validation.load_schema() == tracking_update_schema()
    assert validation.SCHEMA_FILE.name == "tracking_update.schema.json"
    assert definitions().table["KeySchema"][0]["AttributeName"] == "tracking_id"


def test_schema_is_compiled_once():
    # GIVEN the compiled validator cache / WHEN many bodies are validated / THEN one compile per schema part
    validation._compiled.cache_clear()
    for n in range(20):
        validation.parse_tracking_update(json.dumps({**VALID, "tracking_id": f"T{n}"}))
    assert validation._compiled.cache_info().currsize == 1


def test_valid_update_is_parsed_with_decimals():
    update = validation.parse_tracking_update(
        '{"tracking_id":"T","status":"pending","location":{"lat":-12.5,"lng":170},"metadata":{"k":[1,"x"]}}'
    )
    assert update == validation.TrackingUpdate("T", "pending", Decimal("-12.5"), Decimal(170), {"k": [Decimal(1), "x"]})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**VALID, "location": {"lat": -90.5, "lng": 0}}, "location.lat must be bigger than or equal to -90"),
        ({**VALID, "location": {"lat": 0, "lng": 180.5}}, "location.lng must be smaller than or equal to 180"),
        ({**VALID, "location": {"lat": False, "lng": 0}}, "location.lat must be number"),
        ({**VALID, "tracking_id": ""}, "tracking_id must be longer than or equal to 1 characters"),
        ({**VALID, "tracking_id": " \t\u2028"}, "tracking_id must not be blank"),
        ({**VALID, "status": "lost"}, "status must be one of"),
        ({**VALID, "metadata": []}, "metadata must be object"),
        ({**VALID, "metadata": {"": 1}}, "body.metadata must not have an empty key"),
        ([], "body must be object"),
    ],
)
def test_messages_name_the_field(body, message):
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(json.dumps(body))
    assert caught.value.message.startswith(message), caught.value.message


def test_boundaries_are_accepted():
    for lat, lng in ((90, 180), (-90, -180)):
        update = validation.parse_tracking_update(json.dumps({**VALID, "location": {"lat": lat, "lng": lng}}))
        assert update == validation.TrackingUpdate("T", "delivered", Decimal(lat), Decimal(lng), None)
    update = validation.parse_tracking_update(json.dumps({**VALID, "tracking_id": "x" * 100}))
    assert update.tracking_id == "x" * 100


def test_metadata_depth_limit():
    def nested(depth: int) -> dict:
        value: dict = {}
        for _ in range(depth - 1):
            value = {"a": value}
        return value

    validation.parse_tracking_update(json.dumps({**VALID, "metadata": nested(validation.MAX_METADATA_DEPTH)}))
    with pytest.raises(InvalidRequest, match="nested deeper"):
        validation.parse_tracking_update(json.dumps({**VALID, "metadata": nested(validation.MAX_METADATA_DEPTH + 1)}))


def _nested_lists(levels: int) -> dict:
    """`metadata` of `levels` levels: the object itself, then lists inside lists."""
    value: list = []
    for _ in range(levels - 2):
        value = [value]
    return {"a": value}


def test_metadata_depth_limit_counts_lists_too():
    # GIVEN metadata nested through lists / THEN 16 levels pass, 17 are refused naming the innermost path
    at_limit = _nested_lists(validation.MAX_METADATA_DEPTH)
    update = validation.parse_tracking_update(json.dumps({**VALID, "metadata": at_limit}))
    assert update.metadata == at_limit
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(json.dumps({**VALID, "metadata": _nested_lists(17)}))
    assert caught.value.message == "body.metadata.a" + "[0]" * 15 + " is nested deeper than 17 levels"


def test_depth_limit_applies_to_the_value_itself():
    # GIVEN check_storable with a limit of 1 / THEN a flat object passes and one inside another does not
    validation.check_storable({"k": 1}, "x", max_depth=1)
    with pytest.raises(InvalidRequest) as caught:
        validation.check_storable({"k": {}}, "x", max_depth=1)
    assert caught.value.message == "x.k is nested deeper than 1 levels"
    with pytest.raises(InvalidRequest) as caught:
        validation.check_storable([[1]], "x", max_depth=1)
    assert caught.value.message == "x[0] is nested deeper than 1 levels"


@pytest.mark.parametrize("number", ["1e126", "-1e126", "1e-131", "1e200", "1e-200", "1.0000000000000000000000000000000000000001"])
def test_numbers_dynamodb_cannot_store_are_refused(number):
    body = '{"tracking_id":"T","status":"pending","location":{"lat":0,"lng":0},"metadata":{"n":' + number + "}}"
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(body)
    assert caught.value.message == (
        "body.metadata.n must be a number with at most 38 significant digits and a magnitude between 1e-130 and 1e125"
    )


@pytest.mark.parametrize("number", ["0", "-0", "0.0", "1e-130", "9.9999999999999999999999999999999999999e125", "-1e-130"])
def test_numbers_at_dynamodb_limits_are_accepted(number):
    body = '{"tracking_id":"T","status":"pending","location":{"lat":0,"lng":0},"metadata":{"n":' + number + "}}"
    assert validation.parse_tracking_update(body).metadata == {"n": Decimal(number)}


def _body_of(size: int, char: str = "x") -> str:
    """A valid body of exactly `size` UTF-8 bytes, padded with `char` (1 or 2 bytes) in metadata."""
    empty = json.dumps({**VALID, "metadata": {"p": ""}})
    free = size - len(empty.encode())
    width = len(char.encode())
    body = json.dumps({**VALID, "metadata": {"p": char * (free // width) + "x" * (free % width)}}, ensure_ascii=False)
    assert len(body.encode()) == size
    return body


@pytest.mark.parametrize("char", ["x", "\u00e9"])
def test_body_of_exactly_65536_bytes_is_accepted_and_one_more_is_not(char):
    # GIVEN bodies of exactly 64 KiB, in one- and two-byte characters / THEN accepted whole
    at_limit = _body_of(65_536, char)
    assert validation.parse_tracking_update(at_limit).metadata == json.loads(at_limit)["metadata"]
    # GIVEN one byte more / THEN refused, naming the limit
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(_body_of(65_537, char))
    assert caught.value.message == "Request body must be at most 65536 bytes"


def test_body_size_counts_a_lone_surrogate_as_three_bytes():
    # GIVEN a body (as API Gateway hands it over) with raw lone surrogates / THEN counted as 3 bytes, not refused
    # by the encoder: under the limit it reaches the text check, over it the size check
    small = json.dumps({**VALID, "metadata": {"p": "\ud800"}}, ensure_ascii=False)
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(small)
    assert caught.value.message == "body.metadata.p must be valid Unicode text"
    big = json.dumps({**VALID, "metadata": {"p": "\ud800" * 21_846}}, ensure_ascii=False)
    assert len(big) < 65_536 < len(big.encode("utf-8", "surrogatepass"))
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(big)
    assert caught.value.message == "Request body must be at most 65536 bytes"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"k": ["ok", "\udc00"]}, "body.metadata.k[1] must be valid Unicode text"),
        ({"\ud83d": 1}, "body.metadata must be valid Unicode text"),  # a key: its object is named
    ],
)
def test_lone_surrogates_are_refused_naming_where(metadata, message):
    # GIVEN text JSON allows ("\udc00") but UTF-8, and so DynamoDB, cannot hold / THEN 400 naming its place
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(json.dumps({**VALID, "metadata": metadata}))
    assert caught.value.message == message


@pytest.mark.parametrize("body", [None, ""])
def test_empty_body_is_refused_with_its_own_message(body):
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_tracking_update(body)
    assert caught.value.message == "Request body is required"


def test_body_size_limit():
    big = json.dumps({**VALID, "metadata": {"x": "é" * (validation.MAX_BODY_BYTES // 2)}}, ensure_ascii=False)
    assert len(big) < validation.MAX_BODY_BYTES < len(big.encode())
    with pytest.raises(InvalidRequest, match="at most"):
        validation.parse_tracking_update(big)


@pytest.mark.parametrize(
    ("raw", "limit"),
    [(None, 10), ("1", 1), ("100", 100), ("07", 7), ("0007", 7), ("000100", 100), ("0" * 5000 + "5", 5)],
)
def test_limit_parsing(raw, limit):
    assert validation.parse_limit(raw) == limit


@pytest.mark.parametrize(
    "raw", ["0", "101", "-1", "+1", "1.0", "", " 1", "1 ", "٣", "1000", "abc", "0000", "00101", "0" * 5000 + "1000"]
)
def test_bad_limits(raw):
    with pytest.raises(InvalidRequest, match="limit must be an integer from 1 to 100"):
        validation.parse_limit(raw)


def test_status_query():
    from tracking_api import pagination

    token = pagination.encode("T", 42)
    query = validation.parse_status_query({"tracking_id": "T", "limit": "3", "last_key": token})
    assert query == validation.StatusQuery("T", 3, {"tracking_id": "T", "timestamp": 42})
    for params in (None, {"limit": "3"}):
        with pytest.raises(InvalidRequest) as caught:
            validation.parse_status_query(params)
        assert caught.value.message == "tracking_id is required"
    with pytest.raises(InvalidRequest, match="tracking_id must be shorter than or equal to 100"):
        validation.parse_status_query({"tracking_id": "x" * 101})
    with pytest.raises(InvalidRequest, match="tracking_id must not be blank"):
        validation.parse_status_query({"tracking_id": "  "})


def test_status_query_refuses_a_lone_surrogate_tracking_id():
    # GIVEN a tracking_id no UTF-8 text (and so no stored item) can have / THEN 400 naming it, no query
    with pytest.raises(InvalidRequest) as caught:
        validation.parse_status_query({"tracking_id": "A\ud800"})
    assert caught.value.message == "tracking_id must be valid Unicode text"
