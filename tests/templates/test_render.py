"""The one-pass JSON writer writes exactly what json.dumps(indent=1) writes of the sorted data."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tracking_templates.render import _InOrder, _sorted, _write_json

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=25,
)


def _written(value: object) -> str:
    pieces: list[str] = []
    _write_json(value, pieces.append, "\n")
    return "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_writer_matches_json_dumps(value: object) -> None:
    # GIVEN any JSON data (unicode, escapes, NaN and infinities, empty and nested containers)
    # THEN the writer's text is json's, keys sorted
    assert _written(value) == json.dumps(_sorted(value), indent=1, ensure_ascii=False)


def test_in_order_mappings_keep_their_order() -> None:
    # GIVEN a mapping whose order matters, holding one whose order does not
    value = _InOrder([("b", {"y": 1, "x": [2.5, None]}), ("a", True)])
    # THEN only the inner one is sorted
    assert _written(value) == json.dumps({"b": {"x": [2.5, None], "y": 1}, "a": True}, indent=1)
