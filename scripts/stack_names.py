"""Checks on the names users give the scripts."""

from __future__ import annotations

import re

from .errors import UsageError

# CloudFormation: a letter, then letters, digits and hyphens, at most 128 characters.
STACK_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


def validate_stack_name(name: str) -> str:
    """Return NAME if CloudFormation accepts it as a stack name, else raise UsageError."""
    # fullmatch: with match, `$` also matches before a trailing newline ("app\n").
    if not isinstance(name, str) or STACK_NAME_RE.fullmatch(name) is None:
        raise UsageError(
            f"invalid stack name {name!r}: use a letter, then letters, digits or hyphens "
            "(at most 128 characters)"
        )
    return name
