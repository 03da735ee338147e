"""Property: whatever garbage reaches either route, the answer is never a 5xx, and rejected input stores nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .conftest import answer, get_event, post_event

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
numbers = st.one_of(
    st.integers(min_value=-200, max_value=200),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from(["1e-200", "1e400", "NaN", "Infinity", "-0", "90.0000000000000000000000000000000000000001"]),
    json_scalars,
)


@st.composite
def near_valid_bodies(draw: st.DrawFn) -> str:
    """Bodies shaped like an update, each part sometimes right and sometimes garbage."""
    body: dict[str, Any] = {}
    if draw(st.booleans()) or draw(st.booleans()):
        body["tracking_id"] = draw(st.one_of(st.text(min_size=1, max_size=100), json_values))
    if draw(st.booleans()) or draw(st.booleans()):
        body["status"] = draw(st.one_of(st.sampled_from(["pending", "in_transit", "delivered", "failed"]), json_values))
    if draw(st.booleans()) or draw(st.booleans()):
        body["location"] = draw(
            st.one_of(st.fixed_dictionaries({"lat": numbers, "lng": numbers}), json_values)
        )
    if draw(st.booleans()):
        body["metadata"] = draw(json_values)
    if not draw(st.integers(0, 9)):
        body[draw(st.text(max_size=5))] = draw(json_values)
    text = json.dumps(body)
    # Spell special numbers as the raw tokens a client could send.
    for token in ("1e-200", "1e400", "NaN", "Infinity", "-0", "90.0000000000000000000000000000000000000001"):
        text = text.replace(json.dumps(token), token) if draw(st.booleans()) else text
    return text


bodies = st.one_of(
    near_valid_bodies(),
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURES)
@given(body=bodies)
def test_post_garbage_never_5xx_and_rejections_store_nothing(handler, lambda_context, stack, body):
    # GIVEN the table's size before / WHEN any body is posted
    before = len(stack.items())
    status_code, answer_body = answer(handler.main(post_event(body, raw=True), lambda_context))
    # THEN 200 (one item more) or 400 with a reason (nothing more)
    after = len(stack.items())
    assert status_code in (200, 400), (status_code, answer_body)
    event(f"status {status_code}")
    if status_code == 400:
        assert answer_body["error"] and after == before
    else:
        assert after == before + 1


query_values = st.one_of(st.text(max_size=120), st.from_regex(r"[A-Za-z0-9_-]{0,60}", fullmatch=True))


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURES)
@given(
    params=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["tracking_id", "limit", "last_key", "other"]), query_values, max_size=4
        ),
    )
)
def test_get_garbage_never_5xx(handler, lambda_context, stack, params):
    # GIVEN / WHEN any query string / THEN 200 or 400, never a 5xx
    status_code, answer_body = answer(handler.main(get_event(params), lambda_context))
    assert status_code in (200, 400), (status_code, answer_body)
    if status_code == 200:
        assert answer_body["tracking_id"] == params["tracking_id"]
