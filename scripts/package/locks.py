"""python -m scripts.lock: remake the locks (each function's, and the dev install's constraints) with uv.

    python -m scripts.lock [--upgrade]     resolve again (uv keeps the pins it can unless --upgrade)
    python -m scripts.lock --check         offline: does every lock agree with what it was made from?

- `functions/<fn>/requirements.txt`: the closure of `functions/<fn>/requirements.in` resolved
  for the Lambda platform and Python (`tracking_templates.names`), every distribution pinned with
  its sha256 hashes, minus what the runtime provides (boto3 and its dependencies). The packager
  installs exactly it, hash-checked.
- `tests/functions/runtime-sdk.txt`: the boto3 the Lambda runtime provides, hashed, which the
  cold-start benchmark and the old-botocore check install in a CPython 3.13 venv.
- `constraints.txt`: the dev/test install (setup.cfg with the `dev` extra) pinned exactly, for
  every Python the project supports; the README's Quick start and `.ci/run` install with
  `-c constraints.txt`, so only a commit changes what CI installs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tracking_templates.names import LAMBDA_ARCHITECTURE
from tracking_templates.sources import FUNCTIONS_DIR, REPO_ROOT

from .deps import LOCK_FILE, REQUIREMENTS_IN, RUNTIME_PROVIDED
from .interpreter import runtime_version

CONSTRAINTS_FILE = REPO_ROOT / "constraints.txt"
# The SDK the Lambda runtime provides, which the benchmark and the old-botocore check run with.
RUNTIME_SDK_IN = REPO_ROOT / "tests" / "functions" / "runtime-sdk.in"
# The oldest Python setup.cfg supports: a universal resolution from it holds for every later one.
DEV_PYTHON = "3.11"
# uv's name for the Lambda platform of each architecture (glibc 2.17, as pip's manylinux2014).
UV_PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})\b")
_VIA = re.compile(r"^\s*#\s*(?:via\b)?")


def uv_command(*args: str) -> list[str]:
    """uv, as installed with the dev extra."""
    return [sys.executable, "-m", "uv", *args]


def function_lock_args(upgrade: bool = False) -> list[str]:
    """`uv pip compile` of a function's requirements.in into its lock, for the Lambda platform.

    Run from the function's folder, with relative names: the lock's header records this command.
    """
    excluded = [arg for name in sorted(RUNTIME_PROVIDED) for arg in ("--no-emit-package", name.replace("_", "-"))]
    return uv_command(
        "pip", "compile", REQUIREMENTS_IN, "--output-file", LOCK_FILE, "--quiet",
        "--python-version", runtime_version(), "--python-platform", UV_PLATFORMS[LAMBDA_ARCHITECTURE],
        "--only-binary", ":all:", "--generate-hashes", *excluded, *(["--upgrade"] if upgrade else []),
    )  # fmt: skip


def constraints_args(upgrade: bool = False) -> list[str]:
    """`uv pip compile` of setup.cfg's dev extra into constraints.txt, valid for every Python >= 3.11."""
    return uv_command(
        "pip", "compile", "setup.cfg", "--extra", "dev", "--output-file", CONSTRAINTS_FILE.name, "--quiet",
        "--universal", "--python-version", DEV_PYTHON, *(["--upgrade"] if upgrade else []),
    )  # fmt: skip


def runtime_sdk_args(upgrade: bool = False) -> list[str]:
    """`uv pip compile` of the runtime's SDK pins into runtime-sdk.txt, hashed, for CPython 3.13."""
    return uv_command(
        "pip", "compile", RUNTIME_SDK_IN.name, "--output-file", RUNTIME_SDK_IN.with_suffix(".txt").name,
        "--quiet", "--python-version", runtime_version(), "--generate-hashes", *(["--upgrade"] if upgrade else []),
    )  # fmt: skip


@dataclass
class Locked:
    """One pinned distribution of a lock: version, hashes, and what pulled it in."""

    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def read_lock(text: str) -> tuple[str, dict[str, Locked]]:
    """(header comment, canonical name -> Locked) of a uv/pip-tools lock."""
    header: list[str] = []
    locked: dict[str, Locked] = {}
    current: Locked | None = None
    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = locked[canonicalize_name(pin.group(1))] = Locked(pin.group(2))
            current.hashes.extend(_HASH.findall(line))
        elif current is None:
            header.append(line)
        elif line.lstrip().startswith("--hash="):
            current.hashes.extend(_HASH.findall(line))
        elif line.lstrip().startswith("#"):
            # "# via a, b" (one line) or "# via" then "#   a" per line.
            current.via.extend(v.strip() for v in _VIA.sub("", line).split(",") if v.strip())
    return "\n".join(header), locked


def top_level(text: str) -> Iterator[Requirement]:
    """The requirements of a requirements.in (comments and blank lines skipped)."""
    for line in text.splitlines():
        line = line.partition("#")[0].strip()
        if line:
            yield Requirement(line)


def disagreements(requirements_in: str, lock: str) -> list[str]:
    """Why a function's lock does not match its requirements.in and the runtime (empty: it does)."""
    problems: list[str] = []
    header, locked = read_lock(lock)
    for flag, value in (("--python-version", runtime_version()), ("--python-platform", UV_PLATFORMS[LAMBDA_ARCHITECTURE])):
        if f"{flag} {value}" not in header:
            problems.append(f"not resolved with {flag} {value}")
    try:
        wanted = list(top_level(requirements_in))
    except InvalidRequirement as error:
        return [*problems, f"{REQUIREMENTS_IN}: {error}"]
    names = {canonicalize_name(requirement.name) for requirement in wanted}
    provided = {canonicalize_name(name) for name in RUNTIME_PROVIDED}
    for requirement in wanted:
        pin = locked.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement.name} is required but not locked")
        elif not requirement.specifier.contains(pin.version):
            problems.append(f"{requirement.name} is locked at {pin.version}, outside {requirement.specifier}")
    for name, pin in sorted(locked.items()):
        if name in provided:
            problems.append(f"{name} is provided by the Lambda runtime and must not be locked")
        if not pin.hashes:
            problems.append(f"{name}=={pin.version} has no sha256 hash")
        by_file = any(v.startswith("-r") for v in pin.via)
        sources = {canonicalize_name(v) for v in pin.via}
        if by_file and name not in names:
            problems.append(f"{name} is locked as a top-level requirement that is no longer required")
        elif not by_file and not sources & (set(locked) | provided):
            problems.append(f"{name} is locked but nothing requires it")
    return problems


def version_skew(lock: str, constraints: str) -> list[str]:
    """Distributions a function ships at another version than the tests run (constraints.txt)."""
    tested = read_lock(constraints)[1]
    return [
        f"{name} ships at {pin.version} but the tests run {tested[name].version} (constraints.txt)"
        for name, pin in sorted(read_lock(lock)[1].items())
        if name in tested and tested[name].version != pin.version
    ]


def function_dirs() -> list[Path]:
    """The functions that have top-level requirements."""
    return sorted(path.parent for path in FUNCTIONS_DIR.glob(f"*/{REQUIREMENTS_IN}"))


def _text(path: Path) -> str:
    """PATH's text, or "" if there is no such file."""
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def check() -> int:
    """Offline: 0 if every lock agrees with its requirements.in and constraints.txt, else 1 with why."""
    failed = 0
    for folder in function_dirs():
        lock = folder / LOCK_FILE
        text = _text(lock)
        problems = disagreements(_text(folder / REQUIREMENTS_IN), text) + version_skew(text, _text(CONSTRAINTS_FILE))
        for problem in problems:
            print(f"{lock}: {problem}", file=sys.stderr)
            failed = 1
    if failed:
        print("run: python -m scripts.lock", file=sys.stderr)
    return failed


def relock(upgrade: bool) -> int:
    """Resolve every lock again with uv (network: the package index)."""
    jobs = [(folder, function_lock_args(upgrade)) for folder in function_dirs()]
    jobs.append((REPO_ROOT, constraints_args(upgrade)))
    jobs.append((RUNTIME_SDK_IN.parent, runtime_sdk_args(upgrade)))
    for folder, command in jobs:
        print(f"+ (cd {folder.relative_to(REPO_ROOT)} && uv {' '.join(command[3:])})", flush=True)
        if subprocess.run(command, cwd=folder, check=False).returncode != 0:
            print(f"error: uv could not resolve the lock in {folder}", file=sys.stderr)
            return 1
    return check()
