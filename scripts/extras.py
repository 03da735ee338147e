"""Whether this install has an extra's packages, so a command that needs one says so in one line.

The extras are setup.cfg's `[options.extras_require]`, read back from the installed metadata: the
list of what a command needs is written once, where pip reads it.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, requires, version

from .errors import UsageError

DISTRIBUTION = "logistics-tracking"  # setup.cfg's [metadata] name
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def missing_requirements(extra: str, distribution: str = DISTRIBUTION) -> list[str]:
    """The distributions EXTRA requires that are not installed; none when the project is not installed."""
    try:
        requirements = requires(distribution) or []
    except PackageNotFoundError:  # run from a checkout without an install: nothing to compare with
        return []
    missing = []
    for requirement in requirements:
        name, marker = _NAME.match(requirement), _EXTRA_MARKER.search(requirement)
        if name is None or marker is None or marker.group(1) != extra:
            continue
        try:
            version(name.group(1))
        except PackageNotFoundError:
            missing.append(name.group(1))
    return sorted(set(missing))


def require_extra(extra: str, command: str, distribution: str = DISTRIBUTION) -> None:
    """A UsageError naming the extra to install when any package of EXTRA is missing."""
    missing = missing_requirements(extra, distribution)
    if missing:
        raise UsageError(
            f"{command} needs the '{extra}' extra, which this install lacks (missing: {', '.join(missing)}): "
            f'python -m pip install -c constraints.txt -e ".[{extra}]"'
        )
