"""Hash-based bytecode (PEP 552) for a zip's .py files, compiled by a CPython of the runtime's version.

Lambda unpacks the zip into a read-only /var/task: without shipped bytecode Python compiles
every imported module from source on every cold start. Timestamp-based .pyc files would never
match the fixed 1980 entry dates, so they are `unchecked-hash`: valid while the tree is the
one shipped (it is read-only), and byte-identical for the same sources and interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from ..errors import DeployError
from .interpreter import Interpreter

# PEP 552 flags word: bit 0 = hash-based, bit 1 = check the source. Unchecked: 0b01.
UNCHECKED_HASH_FLAGS = 0b01
MODE = "unchecked-hash"
COMPLETE_MARKER = ".bytecode-complete"
# Bump when the compiled output for the same inputs changes (flags, names, compiler script).
BYTECODE_FORMAT = 1

# Runs in the target interpreter: compile [source, pyc, name] triples in the order given. The
# displayed file name is the archive name (the import system replaces it with the real path).
COMPILER = """
import json, py_compile, sys
for source, target, name in json.load(sys.stdin):
    try:
        py_compile.compile(source, cfile=target, dfile=name, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as error:
        sys.exit(f"{name}: {error.exc_type_name}: {error.exc_value}")
"""


def pyc_name(name: str, cache_tag: str) -> str:
    """'pkg/mod.py' -> 'pkg/__pycache__/mod.cpython-313.pyc' (where the import system looks)."""
    path = PurePosixPath(name)
    return str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc")


def sources(entries: dict[str, Path]) -> list[str]:
    """The archive names of ENTRIES that Python imports from source, sorted."""
    return sorted(name for name in entries if name.endswith(".py"))


def bytecode_key(entries: dict[str, Path], interpreter: Interpreter) -> str:
    """A hash of what the bytecode depends on: names and contents, interpreter magic, mode."""
    files = [[name, hashlib.sha256(entries[name].read_bytes()).hexdigest()] for name in sources(entries)]
    inputs = [BYTECODE_FORMAT, MODE, interpreter.magic.hex(), files]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()


def compile_entries(
    entries: dict[str, Path], interpreter: Interpreter, cache_root: Path
) -> dict[str, Path]:
    """pyc archive name -> compiled file for every .py in ENTRIES; compiled once per input set."""
    names = sources(entries)
    if not names:
        return {}
    target = cache_root / bytecode_key(entries, interpreter)
    compiled = {pyc_name(name, interpreter.cache_tag): target / pyc_name(name, interpreter.cache_tag) for name in names}
    if (target / COMPLETE_MARKER).is_file():
        return compiled
    staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    jobs = [[str(entries[name]), str(staging / pyc_name(name, interpreter.cache_tag)), name] for name in names]
    # Isolated (-I): only the standard library, whatever this shell's PYTHON* settings, user
    # site or current folder hold.
    result = subprocess.run(
        [interpreter.path, "-I", "-c", COMPILER], input=json.dumps(jobs), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        detail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise DeployError(f"{interpreter.path} could not compile the bytecode: {detail}")
    (staging / COMPLETE_MARKER).touch()
    # A folder left without its marker (an interrupted run) is replaced whole.
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return compiled


def header(pyc: bytes) -> tuple[bytes, int]:
    """(magic, flags) of a .pyc's 16-byte header."""
    return pyc[:4], int.from_bytes(pyc[4:8], "little")
