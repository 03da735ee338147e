"""Checks on the names users give the scripts."""

from __future__ import annotations

import re

from ..errors import UsageError

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


# CloudFormation's stack tags: at most 50; keys 1-128 and values 1-256 characters; keys may
# not start with the reserved "aws:" prefix.
MAX_STACK_TAGS = 50


def validate_stack_tags(tags: dict[str, str], where: str = "--tags") -> dict[str, str]:
    """Return TAGS if CloudFormation accepts them as stack tags, else raise UsageError naming WHERE."""
    where = f"{where}: " if where else ""
    if len(tags) > MAX_STACK_TAGS:
        raise UsageError(f"{where}{len(tags)} tags, CloudFormation takes at most {MAX_STACK_TAGS}")
    for key, value in tags.items():
        if len(key) > 128 or key.lower().startswith("aws:"):
            raise UsageError(f"{where}invalid key {key!r}: at most 128 characters, not starting with 'aws:'")
        if not 1 <= len(value) <= 256:
            raise UsageError(f"{where}{key}={value!r}: the value must be 1 to 256 characters")
    return tags
