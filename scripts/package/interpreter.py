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
    return examine(path)[0]


def examine(path: str) -> tuple[Interpreter | None, str]:
    """PATH probed: the interpreter, or None and why it is not one (said when none is found)."""
    try:
        result = subprocess.run(
            [path, "-c", PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except OSError as error:
        return None, error.strerror or str(error)
    except subprocess.TimeoutExpired:
        return None, f"no answer within {PROBE_TIMEOUT_S} s"
    fields = result.stdout.split()
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        return None, f"exit {result.returncode}" + (f": {said[0].strip()}" if said else "")
    if len(fields) != 3 or fields[0] != "cpython":
        return None, "not CPython"
    try:
        magic = bytes.fromhex(fields[2])
    except ValueError:
        return None, "not CPython"
    return Interpreter(path, fields[1], magic), ""


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


def pyenv_installs(version: str, pyenv_root: str | None = None) -> list[str]:
    """pyenv's own CPython X.Y executables (`$PYENV_ROOT/versions/X.Y*/bin/pythonX.Y`), sorted by name."""
    root = Path(pyenv_root or os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = [p for p in root.glob(f"versions/{version}*/bin/python{version}") if os.access(p, os.X_OK)]
    return [str(p) for p in sorted(found)]


class InterpreterNotFound(UsageError):
    """No CPython of the runtime's version: what was found and skipped, and what would work."""

    def __init__(self, version: str, skipped: list[tuple[str, str]], installed: list[str]) -> None:
        self.version, self.skipped, self.installed = version, skipped, installed
        super().__init__(self.reason(command_line=True))

    def reason(self, command_line: bool) -> str:
        """One line; COMMAND_LINE adds the flags (--python, --no-bytecode) that only the command has."""
        version = self.version
        line = f"no CPython {version} found to compile the bytecode for the Lambda runtime"
        if self.skipped:
            line += "; skipped " + ", ".join(f"{path} ({why})" for path, why in self.skipped)
        if self.installed:
            # pyenv's shim runs only a *selected* version; putting pyenv's bin folder first on
            # PATH would work for python3.13 but hide the virtualenv's own python.
            found = self.installed[-1]
            ways = [f"link just that file into a folder ahead of pyenv's shims on PATH (e.g. ln -s {found} "
                    "~/.local/bin/), not pyenv's whole bin folder, which would hide the virtualenv's python"]
            if command_line:
                ways = [f"pass --python {found}", *ways, "build without bytecode with --no-bytecode"]
            return f"{line}: pyenv has {found}: " + ", or ".join(ways)
        advice = (f"install one (actions/setup-python, pyenv install {version}, your package manager) and put "
                  f"python{version} on PATH")
        if command_line:
            advice += ", or pass --python PATH, or build without bytecode with --no-bytecode"
        return f"{line}: {advice}"


def find_interpreter(
    explicit: str | None = None, version: str | None = None, search_path: str | None = None,
    pyenv_root: str | None = None,
) -> Interpreter:
    """EXPLICIT (--python) if given, else this interpreter, else `pythonX.Y` on PATH: CPython X.Y only.

    None found: InterpreterNotFound, naming each candidate skipped and why, and pyenv's own
    install of that version if there is one (PYENV_ROOT, else ~/.pyenv; PYENV_ROOT for tests).
    """
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
    skipped: list[tuple[str, str]] = []
    for candidate in candidates(version, search_path):
        found, why = examine(candidate)
        if found is not None and found.version == version:
            return found
        skipped.append((candidate, f"is CPython {found.version}" if found is not None else why))
    raise InterpreterNotFound(version, skipped, pyenv_installs(version, pyenv_root))
