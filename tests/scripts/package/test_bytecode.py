"""Hash-based bytecode for the runtime's Python in every zip: header, names, reproducibility, use."""

from __future__ import annotations

import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts.errors import DeployError
from scripts.package import bytecode
from scripts.package import command as package
from scripts.package import deps
from scripts.package.bytecode import bytecode_key, compile_entries, header, pyc_name
from scripts.package.interpreter import Interpreter
from scripts.package.packager import Packager
from scripts.package.zipbuild import iter_files

from ..runtime_python import runtime_python
from .test_package_zip import SOURCES, make_function, make_other_checkout

# CPython 3.13's magic number (3571, Lib/importlib/_bootstrap_external.py), as in its .pyc files.
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"


def test_pyc_names_follow_the_import_system() -> None:
    # GIVEN / WHEN / THEN each source maps to __pycache__/<stem>.<tag>.pyc beside it
    assert pyc_name("handler.py", "cpython-313") == "__pycache__/handler.cpython-313.pyc"
    assert pyc_name("app/core.py", "cpython-313") == "app/__pycache__/core.cpython-313.pyc"
    assert pyc_name("a/b/__init__.py", "cpython-312") == "a/b/__pycache__/__init__.cpython-312.pyc"


def test_every_py_gets_a_pyc_with_the_runtime_magic_and_the_unchecked_hash_flag(tmp_path: Path) -> None:
    # GIVEN the runtime's interpreter and a function's sources
    python = runtime_python()
    entries = dict(iter_files(make_function(tmp_path / "src") / "svc"))
    # WHEN compiled
    compiled = compile_entries(entries, python, tmp_path / "cache")
    # THEN one pyc per .py (none for data files), named for CPython 3.13
    assert sorted(compiled) == [
        "__pycache__/handler.cpython-313.pyc",
        "app/__pycache__/__init__.cpython-313.pyc",
        "app/__pycache__/core.cpython-313.pyc",
    ]
    # AND each starts with 3.13's magic and the PEP 552 flags 0b01 (hash-based, not checked)
    for path in compiled.values():
        magic, flags = header(path.read_bytes())
        assert (magic, flags) == (MAGIC_313, 0b01) == (python.magic, bytecode.UNCHECKED_HASH_FLAGS)
    # AND the next 8 bytes are the source hash the import system would compute
    check = (
        "import importlib.util, sys; src = open(sys.argv[1], 'rb').read(); "
        "print(importlib.util.source_hash(src).hex())"
    )
    source_hash = subprocess.run([python.path, "-c", check, str(entries["app/core.py"])],
                                 capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert compiled["app/__pycache__/core.cpython-313.pyc"].read_bytes()[8:16].hex() == source_hash


def test_the_same_sources_compile_once_and_a_changed_one_compiles_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN sources compiled once
    python = runtime_python()
    root = make_function(tmp_path / "src") / "svc"
    first = compile_entries(dict(iter_files(root)), python, tmp_path / "cache")
    # WHEN compiled again THEN the cached files are reused (no interpreter runs)
    with monkeypatch.context() as patch:
        patch.setattr(subprocess, "run", None)
        assert compile_entries(dict(iter_files(root)), python, tmp_path / "cache") == first
    # WHEN a source changes THEN it is compiled again, into a new folder
    (root / "app" / "core.py").write_text("def run(event):\n    return 1\n")
    second = compile_entries(dict(iter_files(root)), python, tmp_path / "cache")
    assert second.keys() == first.keys() and second != first
    assert second["app/__pycache__/core.cpython-313.pyc"].read_bytes() != first["app/__pycache__/core.cpython-313.pyc"].read_bytes()


@pytest.mark.parametrize("broken", ["app/__init__.py", "handler.py"])  # compiled first / last
def test_a_source_that_does_not_compile_is_a_deploy_error_and_caches_nothing(tmp_path: Path, broken: str) -> None:
    # GIVEN a syntax error
    python = runtime_python()
    root = make_function(tmp_path / "src") / "svc"
    (root / broken).write_text("def run(event:\n")
    # WHEN compiling THEN one error naming the interpreter and the file, no cache entry
    name = broken.rsplit("/", 1)[-1]
    with pytest.raises(DeployError) as error:
        compile_entries(dict(iter_files(root)), python, tmp_path / "cache")
    assert str(error.value) == (
        f"{python.path} could not compile the bytecode: {broken}: SyntaxError: '(' was never closed ({name}, line 1)"
    )
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_checkouts_with_different_times_give_byte_identical_zips_with_bytecode(tmp_path: Path) -> None:
    # GIVEN two checkouts of the same sources, written in different orders, with other times,
    # permissions and stale bytecode in the second
    python = runtime_python()
    first = make_function(tmp_path / "a")
    second = make_other_checkout(tmp_path / "b")
    # WHEN each is packaged with bytecode, each with its own caches (compiled twice)
    zip_a = Packager(first, tmp_path / "out-a", bundle_deps=False, interpreter=python).build("svc").archive
    zip_b = Packager(second, tmp_path / "out-b", bundle_deps=False, interpreter=python).build("svc").archive
    # THEN the zips are byte-identical
    assert zip_a.path.read_bytes() == zip_b.path.read_bytes() and zip_a.sha256 == zip_b.sha256
    # AND hold every source and its bytecode (not the stale file), sorted
    with zipfile.ZipFile(zip_b.path) as archive:
        names = archive.namelist()
        stale = archive.read("app/__pycache__/core.cpython-313.pyc")
    expected = sorted([*SOURCES, *(pyc_name(n, "cpython-313") for n in SOURCES if n.endswith(".py"))])
    assert names == expected
    assert stale.startswith(MAGIC_313)


def test_the_unpacked_read_only_zip_runs_its_bytecode_not_its_source(tmp_path: Path) -> None:
    # GIVEN a zip with bytecode, unpacked read-only as Lambda does
    python = runtime_python()
    root = make_function(tmp_path / "src")
    built = Packager(root, tmp_path / "out", bundle_deps=False, interpreter=python).build("svc").archive
    task = tmp_path / "task"
    with zipfile.ZipFile(built.path) as archive:
        archive.extractall(task)
    # AND a source edited after the build (an unchecked-hash pyc is not checked against it)
    (task / "app" / "core.py").write_text("def run(event):\n    return 'from source'\n")
    for path in task.rglob("*"):
        path.chmod(stat.S_IREAD | stat.S_IEXEC if path.is_dir() else stat.S_IREAD)
    try:
        # WHEN the runtime's Python imports the code from there
        code = "import app.core; print(app.core.run({'k': 1}), app.core.__cached__ is not None)"
        result = subprocess.run([python.path, "-c", code], cwd=task, capture_output=True, text=True, check=True)
    finally:
        for path in task.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    # THEN the shipped bytecode ran (the edit is not seen), and nothing was written
    assert result.stdout.split() == ["{'k':", "1}", "True"]
    assert sorted(p.name for p in task.rglob("*.pyc")) == ["__init__.cpython-313.pyc", "core.cpython-313.pyc", "handler.cpython-313.pyc"]


def test_package_without_an_interpreter_exits_2_and_no_bytecode_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no CPython 3.13 anywhere
    from scripts.package import interpreter

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(interpreter.sys, "version_info", (3, 99, 0))
    # WHEN packaging with dependencies (so with bytecode) THEN exit 2, one line, nothing built
    assert package.main(["--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no CPython 3.13 found") and err.count("\n") == 1
    assert not list((tmp_path / "out").glob("*.zip"))
    # AND an explicit --python of another version is refused the same way
    assert package.main(["--output-dir", str(tmp_path / "out"), "--python", "/bin/true"]) == 2
    assert "--python /bin/true: does not run as CPython" in capsys.readouterr().err
    # AND --no-deps zips need none (sources only, for the emulator)
    assert package.main(["--output-dir", str(tmp_path / "out"), "--no-deps"]) == 0
    with zipfile.ZipFile(tmp_path / "out" / "tracking.zip") as archive:
        assert not [n for n in archive.namelist() if n.endswith(".pyc")]


def test_no_bytecode_is_said_in_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN packaging with dependencies but --no-bytecode (the bundling itself stubbed out)
    monkeypatch.setattr(deps, "dependency_dir", lambda *args: None)
    # WHEN packaging THEN it says the zips carry no bytecode, and they do not
    assert package.main(["--output-dir", str(tmp_path), "--no-bytecode"]) == 0
    out, err = capsys.readouterr()
    assert err == package.NO_BYTECODE_NOTE + "\n" and len(out.splitlines()) == 2
    with zipfile.ZipFile(tmp_path / "notifier.zip") as archive:
        assert not [n for n in archive.namelist() if n.endswith(".pyc")]


def test_the_cache_key_follows_names_contents_and_the_interpreter_not_data_files(tmp_path: Path) -> None:
    # GIVEN a function's files and two interpreters of different magic numbers
    python = runtime_python()
    other = Interpreter(python.path, python.version, b"\x00\x00\r\n")
    root = make_function(tmp_path / "src") / "svc"
    key = bytecode_key(dict(iter_files(root)), python)
    # THEN the key is stable, and changes with the magic, a renamed source and a changed source
    assert key == bytecode_key(dict(iter_files(root)), python) and len(key) == 64
    assert bytecode_key(dict(iter_files(root)), other) != key
    (root / "app" / "core.py").rename(root / "app" / "main.py")
    renamed = bytecode_key(dict(iter_files(root)), python)
    (root / "app" / "main.py").write_text("def run(event):\n    return 2\n")
    assert len({key, renamed, bytecode_key(dict(iter_files(root)), python)}) == 3
    # AND not with a file Python does not import
    (root / "app" / "schema.json").write_text("{}")
    assert bytecode_key(dict(iter_files(root)), python) not in (key, renamed)
    changed = bytecode_key(dict(iter_files(root)), python)
    (root / "app" / "schema.json").write_text('{"changed": true}')
    assert bytecode_key(dict(iter_files(root)), python) == changed


def test_compiling_ignores_this_shells_python_settings_and_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a PYTHONPATH and a current folder holding a `json` module that breaks any import of it
    python = runtime_python()
    for folder in (tmp_path / "shadow", tmp_path / "cwd"):
        folder.mkdir()
        (folder / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    monkeypatch.chdir(tmp_path / "cwd")
    # WHEN compiling THEN the compiler used the standard library's json, and worked
    compiled = compile_entries(dict(iter_files(make_function(tmp_path / "src") / "svc")), python, tmp_path / "cache")
    assert len(compiled) == 3 and all(path.is_file() for path in compiled.values())


def test_set_constants_compile_to_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    # GIVEN a source with a frozenset constant of strings (its order follows string hashes)
    python = runtime_python()
    source = tmp_path / "src" / "flags.py"
    source.parent.mkdir()
    source.write_text("def known(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'}\n")
    # WHEN compiled by separate processes (separate caches, random hash seeds) THEN the bytes are
    # the same (CPython 3.13's marshal writes a frozenset's items in a fixed order)
    outputs = {compile_entries({"flags.py": source}, python, tmp_path / f"cache{i}")["__pycache__/flags.cpython-313.pyc"]
               .read_bytes() for i in range(3)}  # fmt: skip
    assert len(outputs) == 1


def test_a_half_written_cache_folder_and_stale_staging_are_replaced(tmp_path: Path) -> None:
    # GIVEN the target folder left without its marker, and a staging folder of this process
    python = runtime_python()
    entries = dict(iter_files(make_function(tmp_path / "src") / "svc"))
    target = tmp_path / "cache" / bytecode_key(entries, python)
    staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
    for folder in (target, staging):
        (folder / "__pycache__").mkdir(parents=True)
        (folder / "__pycache__" / "junk.cpython-313.pyc").write_bytes(b"junk")
    # WHEN compiling THEN the target holds exactly the new bytecode and the marker
    compiled = compile_entries(entries, python, tmp_path / "cache")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == sorted(
        [bytecode.COMPLETE_MARKER, *compiled]
    )
    assert not staging.exists()


def test_a_compiler_that_fails_silently_is_reported_as_such(tmp_path: Path) -> None:
    # GIVEN an "interpreter" that exits 1 and prints nothing
    broken = Interpreter("/bin/false", "3.13", b"")
    entries = dict(iter_files(make_function(tmp_path / "src") / "svc"))
    # WHEN compiling THEN the error says there was no output
    with pytest.raises(DeployError, match=r"^/bin/false could not compile the bytecode: \(no output\)$"):
        compile_entries(entries, broken, tmp_path / "cache")
