"""The CPython that compiles the zips' bytecode: one of the Lambda runtime's version, found and checked."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracking_templates.names import LAMBDA_RUNTIME

from ..errors import UsageError

# Printed by a candidate: implementation, X.Y, and the magic number its .pyc files start with.
PROBE = (
    "import sys, importlib.util; "
    "print(sys.implementation.name, '%d.%d' % sys.version_info[:2], importlib.util.MAGIC_NUMBER.hex())"
)
PROBE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Interpreter:
    """A CPython that can compile bytecode for the runtime: where it is, its X.Y and pyc magic."""

    path: str
    version: str
    magic: bytes

    @property
    def cache_tag(self) -> str:
        """'cpython-313': the tag in `__pycache__/<module>.<tag>.pyc` names."""
        return "cpython-" + self.version.replace(".", "")


def runtime_version(runtime: str = LAMBDA_RUNTIME) -> str:
    """'python3.13' -> '3.13'."""
    return runtime.removeprefix("python")


def probe(path: str) -> Interpreter | None:
    """Run PATH and ask what it is; None if it does not run or is not CPython."""
    try:
        result = subprocess.run(
            [path, "-c", PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = result.stdout.split()
    if result.returncode != 0 or len(fields) != 3 or fields[0] != "cpython":
        return None
    try:
        magic = bytes.fromhex(fields[2])
    except ValueError:
        return None
    return Interpreter(path, fields[1], magic)


def candidates(version: str, search_path: str | None = None) -> Iterator[str]:
    """Every `pythonX.Y` executable on SEARCH_PATH (default $PATH), in PATH order.

    All of them, not only the first: a pyenv shim is first on PATH and fails when that version
    is not selected, while a real interpreter may come later.
    """
    seen: set[str] = set()
    folders = (search_path if search_path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    # An empty entry would mean the current folder: never run an interpreter found there.
    for folder in filter(None, folders):
        candidate = Path(folder, f"python{version}")
        if candidate.is_file() and os.access(candidate, os.X_OK) and str(candidate) not in seen:
            seen.add(str(candidate))
            yield str(candidate)


def missing_message(version: str) -> str:
    """The one line saying how to get an interpreter when none is found."""
    return (
        f"no CPython {version} found to compile the bytecode for the Lambda runtime: "
        f"install one (actions/setup-python, pyenv install {version}, your package manager) and put "
        f"python{version} on PATH, or pass --python PATH, or build without bytecode with --no-bytecode"
    )


def find_interpreter(
    explicit: str | None = None, version: str | None = None, search_path: str | None = None
) -> Interpreter:
    """EXPLICIT (--python) if given, else this interpreter, else `pythonX.Y` on PATH: CPython X.Y only."""
    version = version or runtime_version()
    if explicit is not None:
        found = probe(explicit)
        if found is None or found.version != version:
            what = "does not run as CPython" if found is None else f"is CPython {found.version}"
            raise UsageError(f"--python {explicit}: {what}, the Lambda runtime needs CPython {version}")
        return found
    running = "%d.%d" % sys.version_info[:2]
    if sys.implementation.name == "cpython" and running == version and sys.executable:
        return Interpreter(sys.executable, version, importlib.util.MAGIC_NUMBER)
    for candidate in candidates(version, search_path):
        found = probe(candidate)
        if found is not None and found.version == version:
            return found
    raise UsageError(missing_message(version))
