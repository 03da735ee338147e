"""A CPython 3.13 virtualenv with the AWS SDK the Lambda runtime provides (boto3 1.34.x), made once.

The functions ship without boto3: on Lambda they run with the runtime's own, older SDK. The
trimmed-models check and the cold-start benchmark run them with that one, in this venv
(build/runtime-sdk/<hash>/: reused while the lock and the interpreter are the same).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from scripts.package.interpreter import Interpreter

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK = Path(__file__).resolve().with_name("runtime-sdk.txt")
COMPLETE_MARKER = ".runtime-sdk-complete"


def runtime_sdk_python(python: Interpreter, root: Path = REPO_ROOT / "build" / "runtime-sdk") -> Path:
    """The venv's python: PYTHON's version with exactly the locked SDK (hash-checked) installed."""
    key = hashlib.sha256(LOCK.read_bytes() + python.path.encode() + python.magic).hexdigest()[:16]
    venv = root / key
    if (venv / COMPLETE_MARKER).is_file():
        return venv / "bin" / "python"
    # Built in place (a venv's scripts name its folder); the marker, written last, says it is whole.
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python.path, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--require-hashes", "--requirement", str(LOCK)],
        check=True,
    )  # fmt: skip
    (venv / COMPLETE_MARKER).write_text("", encoding="utf-8")
    return venv / "bin" / "python"
