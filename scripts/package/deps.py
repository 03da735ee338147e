"""Third-party dependencies for a Lambda zip: locked, hash-checked wheels for the Lambda platform, cached."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tracking_templates.names import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME

from ..errors import DeployError
from .interpreter import runtime_version

# pip platform tag per Lambda architecture (manylinux2014 = glibc 2.17, what Lambda supports).
PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# The Lambda Python runtime ships boto3 and its dependencies; bundling them again only adds
# megabytes, so they are dropped from the bundle whoever pulled them in.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python_dateutil", "six"}
)
COMPLETE_MARKER = ".bundle-complete"
# functions/<fn>/: the top-level requirements (edited by hand) and the lock made from them by
# `python -m scripts.lock` (every distribution that lands in the zip, pinned, with hashes).
REQUIREMENTS_IN = "requirements.in"
LOCK_FILE = "requirements.txt"
REQUIREMENT_FILES = (REQUIREMENTS_IN, LOCK_FILE)
# Bump when what is installed for the same lock changes (pip flags, pruning).
BUNDLE_FORMAT = 2
# Not shipped: console scripts carry this machine's interpreter path (Lambda never runs
# them), and the marker is the cache's own bookkeeping.
NOT_SHIPPED = ("bin", COMPLETE_MARKER)


def pip_install_args(requirements: Path, target: Path) -> list[str]:
    """The pip command that installs the lock REQUIREMENTS for the Lambda platform into TARGET.

    Exactly the locked distributions (`--no-deps`: the lock is the closure), each checked
    against its locked hashes (`--require-hashes`).
    """
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target),
        "--platform", PIP_PLATFORMS[LAMBDA_ARCHITECTURE],
        "--implementation", "cp",
        "--python-version", runtime_version(),
        "--only-binary=:all:",
        "--no-deps", "--require-hashes",
        "--requirement", str(requirements),
    ]  # fmt: skip


def cache_key(requirements: Path) -> str:
    """A hash of the lock, the runtime and platform it is installed for, and the bundle format.

    (The bytecode has its own cache, keyed by the sources, the compiler's magic and the mode.)
    """
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{LAMBDA_RUNTIME}/{LAMBDA_ARCHITECTURE}/{BUNDLE_FORMAT}".encode())
    return digest.hexdigest()[:16]


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def prune_runtime_provided(target: Path) -> None:
    """Remove the distributions the Lambda runtime already has, file by file from their RECORD."""
    for dist_info in target.glob("*.dist-info"):
        name = _normalise(dist_info.name.split("-", 1)[0])
        if name not in RUNTIME_PROVIDED:
            continue
        record = dist_info / "RECORD"
        for line in record.read_text(encoding="utf-8").splitlines():
            relative = line.split(",", 1)[0]
            path = (target / relative).resolve()
            if path.is_file() and target.resolve() in path.parents:
                path.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
    # Drop the folders the removed files left empty, deepest first.
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def dependency_dir(
    requirements: Path, cache_root: Path, name: str, say: Callable[[str], None] = _stderr,
) -> Path | None:
    """The installed dependencies of REQUIREMENTS (built once, then reused), or None if absent.

    Installing says so first (SAY, stderr by default): pip may download for seconds, silently.
    """
    if not requirements.is_file() or not _has_requirements(requirements):
        return None
    target = cache_root / f"{name}-{cache_key(requirements)}"
    if (target / COMPLETE_MARKER).is_file():
        return target
    say(f"{name}: installing its locked dependencies ({requirements}) for {LAMBDA_RUNTIME} on "
        f"{LAMBDA_ARCHITECTURE} into {target}; pip may download them (once per lock, then cached)")
    staging = target.with_name(f"{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = subprocess.run(
        pip_install_args(requirements, staging), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DeployError(f"pip could not install {requirements}: {pip_error(result.stderr)}")
    prune_runtime_provided(staging)
    (staging / COMPLETE_MARKER).write_text("", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def pip_error(stderr: str) -> str:
    """The gist of pip's failure: its first ERROR line's first sentence, else its last line."""
    lines = stderr.strip().splitlines() or ["(no output)"]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR: ")]
    return errors[0].split(". ", 1)[0] if errors else lines[-1].strip()


def _has_requirements(requirements: Path) -> bool:
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if line.split("#", 1)[0].strip():
            return True
    return False
