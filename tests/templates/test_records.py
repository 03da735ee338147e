"""Record: the frozen value classes of the settings and the resource groups."""

from __future__ import annotations

import pytest

from tracking_templates.records import Record


class _Point(Record):
    x: int
    y: int = 0
    _cache: dict  # private annotations are not fields


def test_fields_by_position_or_keyword_with_defaults() -> None:
    # GIVEN the same record built three ways
    # THEN they are one value, with fields in annotation order
    assert _Point(1) == _Point(x=1) == _Point(1, y=0)
    assert _Point._fields == ("x", "y")
    assert repr(_Point(1, 2)) == "_Point(x=1, y=2)"
    assert _Point(1).replace(y=5) == _Point(1, 5)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((1, 2, 3), {}, "takes 2 fields"),
    ((1,), {"x": 1}, "got x twice"),
    ((), {"y": 1}, "needs x"),
    ((1,), {"z": 1}, "no fields"),
])
def test_wrong_fields_are_refused(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        _Point(*args, **kwargs)


def test_a_derived_record_keeps_its_bases_fields() -> None:
    class _Point3(_Point):
        z: int = 0

    assert _Point3._fields == ("x", "y", "z")
    assert _Point3(1, 2, 3).replace(x=0) == _Point3(x=0, y=2, z=3)


def test_records_are_frozen() -> None:
    point = _Point(1)
    with pytest.raises(AttributeError, match="frozen"):
        point.x = 2  # type: ignore[misc]
    assert point.x == 1
