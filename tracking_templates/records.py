"""Frozen records: the settings and what each resource group returns.

Not @dataclass nor typing.NamedTuple: those generate each class's methods with exec or eval
at import; for the settings' four dataclasses and the groups' dozen NamedTuples that cost
about 5 ms of every `python -m tracking_templates` (an eighth of what the generator adds to
its troposphere imports). A record class declares annotated fields, defaults as class
attributes, and an optional `_validate()`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self, dataclass_transform


@dataclass_transform(frozen_default=True)
class Record:
    """Fields in annotation order, by position or keyword; equal and hashed by value; frozen;
    `replace()` derives a copy; `_validate()` runs on every construction."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        own = (name for name in cls.__dict__.get("__annotations__", {}) if not name.startswith("_"))
        cls._fields = tuple(dict.fromkeys((*cls._fields, *own)))  # a base record's fields first

    def __init__(self, *args: Any, **values: Any) -> None:
        name = type(self).__name__
        if len(args) > len(self._fields):
            raise TypeError(f"{name} takes {len(self._fields)} fields, not {len(args)}")
        for field, value in zip(self._fields, args):
            if field in values:
                raise TypeError(f"{name} got {field} twice")
            values[field] = value
        unknown = values.keys() - set(self._fields)
        if unknown:
            raise TypeError(f"{name} has no fields {sorted(unknown)}")
        for field in self._fields:
            if field in values:
                object.__setattr__(self, field, values[field])
            elif not hasattr(type(self), field):
                raise TypeError(f"{name} needs {field}")
        self._validate()

    def _validate(self) -> None:
        """Raise when the values do not make a valid record (nothing to check by default)."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field) for field in self._fields)

    def replace(self, **changes: Any) -> Self:
        """A copy with these fields changed (validated like any new record)."""
        return type(self)(**{**dict(zip(self._fields, self._values())), **changes})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={value!r}" for field, value in zip(self._fields, self._values()))
        return f"{type(self).__name__}({fields})"
