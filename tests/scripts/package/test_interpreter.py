"""Finding the CPython that compiles the zips' bytecode: --python, this interpreter, pythonX.Y on PATH."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest

from scripts.errors import UsageError
from scripts.package import interpreter
from scripts.package.interpreter import Interpreter, candidates, find_interpreter, probe, runtime_version

THIS = f"{sys.version_info.major}.{sys.version_info.minor}"


def fake_python(folder: Path, name: str, output: str, code: int = 0) -> Path:
    """An executable NAME in FOLDER that prints OUTPUT and exits CODE, like a probed interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    path.chmod(0o755)
    return path


def test_the_runtime_version_comes_from_the_template_runtime() -> None:
    # GIVEN / WHEN / THEN python3.13 -> 3.13, and the template's runtime is the default
    assert runtime_version("python3.13") == "3.13"
    assert runtime_version("python3.9") == "3.9"
    from tracking_templates.names import LAMBDA_RUNTIME

    assert runtime_version() == LAMBDA_RUNTIME.removeprefix("python")


def test_probe_reads_implementation_version_and_magic_of_a_real_interpreter() -> None:
    # GIVEN this interpreter WHEN probed THEN its X.Y, its pyc magic and its cache tag
    found = probe(sys.executable)
    assert found == Interpreter(sys.executable, THIS, importlib.util.MAGIC_NUMBER)
    assert found.cache_tag == sys.implementation.cache_tag


def test_probe_refuses_what_is_not_a_working_cpython(tmp_path: Path) -> None:
    # GIVEN a failing shim (pyenv's, when the version is not selected), another implementation,
    # garbage output, a bad magic, and a file that cannot run
    shim = fake_python(tmp_path, "shim", "pyenv: python3.13: command not found", code=127)
    pypy = fake_python(tmp_path, "pypy", "pypy 3.13 f30d0d0a")
    garbage = fake_python(tmp_path, "garbage", "cpython 3.13")
    bad_magic = fake_python(tmp_path, "badmagic", "cpython 3.13 zz")
    good = fake_python(tmp_path, "good", "cpython 3.13 f30d0d0a")
    # WHEN probed THEN only the last counts
    for path in (shim, pypy, garbage, bad_magic, tmp_path / "absent"):
        assert probe(str(path)) is None
    assert probe(str(good)) == Interpreter(str(good), "3.13", b"\xf3\r\r\n")
    assert Interpreter(str(good), "3.13", b"").cache_tag == "cpython-313"


def test_candidates_are_every_executable_of_that_name_on_the_path_in_order(tmp_path: Path) -> None:
    # GIVEN three folders on a PATH, two with python3.13 (one not executable), one listed twice
    first = fake_python(tmp_path / "a", "python3.13", "x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "python3.13").write_text("not executable")
    third = fake_python(tmp_path / "c", "python3.13", "x")
    fake_python(tmp_path / "c", "python3.12", "x")
    path = os.pathsep.join(str(tmp_path / d) for d in ("a", "b", "c", "a", "missing"))
    # WHEN listed THEN both executables, in PATH order, once each
    assert list(candidates("3.13", path)) == [str(first), str(third)]


def test_a_failing_shim_first_on_path_does_not_hide_a_real_interpreter_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a running interpreter of another version, and PATH = a failing shim, then a good one
    monkeypatch.setattr(interpreter.sys, "version_info", (3, 99, 0))
    fake_python(tmp_path / "shims", "python3.13", "pyenv: python3.13: command not found", code=127)
    fake_python(tmp_path / "old", "python3.13", "cpython 3.12 cb0d0d0a")
    real = fake_python(tmp_path / "real", "python3.13", "cpython 3.13 f30d0d0a")
    path = os.pathsep.join(str(tmp_path / d) for d in ("shims", "old", "real"))
    # WHEN searching THEN the real one is found
    assert find_interpreter(search_path=path) == Interpreter(str(real), "3.13", b"\xf3\r\r\n")


def test_the_running_interpreter_is_used_when_it_is_the_runtime_version(tmp_path: Path) -> None:
    # GIVEN nothing on PATH WHEN asking for this interpreter's own version THEN it is used as is
    found = find_interpreter(version=THIS, search_path=str(tmp_path))
    assert found == Interpreter(sys.executable, THIS, importlib.util.MAGIC_NUMBER)


def test_none_found_is_a_usage_error_saying_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no python3.13 anywhere (and not running one; no pyenv either: its root is empty)
    monkeypatch.setattr(interpreter.sys, "version_info", (3, 99, 0))
    # WHEN searching THEN exit 2 with one line naming the ways out
    with pytest.raises(UsageError) as error:
        find_interpreter(search_path=str(tmp_path), pyenv_root=str(tmp_path))
    assert error.value.exit_code == 2
    assert str(error.value) == (
        "no CPython 3.13 found to compile the bytecode for the Lambda runtime: install one "
        "(actions/setup-python, pyenv install 3.13, your package manager) and put python3.13 on "
        "PATH, or pass --python PATH, or build without bytecode with --no-bytecode"
    )
    # AND the tests' skip reason says the same without the command's flags
    assert error.value.reason(command_line=False) == (
        "no CPython 3.13 found to compile the bytecode for the Lambda runtime: install one "
        "(actions/setup-python, pyenv install 3.13, your package manager) and put python3.13 on PATH"
    )


def test_a_skipped_shim_is_named_and_pyenvs_own_install_is_the_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN pyenv's shim for python3.13 (3.13 not selected: it fails), an old python3.13, and
    # pyenv's own 3.13.0 install, not on PATH
    monkeypatch.setattr(interpreter.sys, "version_info", (3, 99, 0))
    shim = tmp_path / "shims" / "python3.13"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\necho more >&2\nexit 127\n")
    shim.chmod(0o755)
    old = fake_python(tmp_path / "old", "python3.13", "cpython 3.12 cb0d0d0a")
    installed = fake_python(tmp_path / "pyenv" / "versions" / "3.13.0" / "bin", "python3.13", "cpython 3.13 f30d0d0a")
    path = os.pathsep.join([str(shim.parent), str(old.parent)])
    # WHEN searching
    with pytest.raises(UsageError) as error:
        find_interpreter(search_path=path, pyenv_root=str(tmp_path / "pyenv"))
    # THEN one line: what was skipped and why, and advice that works beside a virtualenv
    skipped = f"; skipped {shim} (exit 127: pyenv: python3.13: command not found), {old} (is CPython 3.12)"
    link = (f"link just that file into a folder ahead of pyenv's shims on PATH (e.g. ln -s {installed} "
            "~/.local/bin/), not pyenv's whole bin folder, which would hide the virtualenv's python")
    head = f"no CPython 3.13 found to compile the bytecode for the Lambda runtime{skipped}: pyenv has {installed}: "
    assert str(error.value) == f"{head}pass --python {installed}, or {link}, or build without bytecode with --no-bytecode"
    assert error.value.reason(command_line=False) == head + link
    # AND the advice works: that interpreter is accepted as --python
    assert find_interpreter(str(installed)) == Interpreter(str(installed), "3.13", b"\xf3\r\r\n")


def test_pyenv_installs_are_that_version_only_sorted_by_name(tmp_path: Path) -> None:
    for name in ("3.13.1", "3.13.0", "3.12.7", "3.13-dev"):
        fake_python(tmp_path / "versions" / name / "bin", "python3.13" if name.startswith("3.13") else "python3.12", "x")
    (tmp_path / "versions" / "3.13.2" / "bin").mkdir(parents=True)  # a broken install: no executable
    assert interpreter.pyenv_installs("3.13", str(tmp_path)) == [
        str(tmp_path / "versions" / v / "bin" / "python3.13") for v in ("3.13-dev", "3.13.0", "3.13.1")]


def test_an_explicit_python_must_be_the_runtime_version(tmp_path: Path) -> None:
    # GIVEN --python pointing at the wrong version, at something that does not run, at a good one
    old = fake_python(tmp_path, "old", "cpython 3.12 cb0d0d0a")
    good = fake_python(tmp_path, "good", "cpython 3.13 f30d0d0a")
    # WHEN / THEN the wrong ones are usage errors naming the flag and what was found
    with pytest.raises(UsageError, match=r"^--python .*old: is CPython 3\.12, the Lambda runtime needs CPython 3\.13$"):
        find_interpreter(str(old))
    with pytest.raises(UsageError, match=r"^--python .*absent: does not run as CPython, the Lambda runtime needs CPython 3\.13$"):
        find_interpreter(str(tmp_path / "absent"))
    # AND an explicit one wins over PATH
    assert find_interpreter(str(good), search_path="") == Interpreter(str(good), "3.13", b"\xf3\r\r\n")


def test_candidates_default_to_the_path_variable_and_never_come_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN PATH = a folder with python3.13, then an empty entry (meaning the current folder,
    # which has one too: whoever can write there must not choose the compiler)
    on_path = fake_python(tmp_path / "bin", "python3.13", "x")
    fake_python(tmp_path / "here", "python3.13", "x")
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}")
    # WHEN listed without a search path THEN the one on $PATH, not the current folder's
    assert list(candidates("3.13")) == [str(on_path)]
    # AND with no PATH at all, none
    monkeypatch.delenv("PATH")
    assert list(candidates("3.13")) == []


def test_an_interpreter_that_hangs_is_given_up_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a candidate that never answers (a wedged shim), and a short probe timeout
    hanging = tmp_path / "python3.13"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(0o755)
    monkeypatch.setattr(interpreter, "PROBE_TIMEOUT_S", 0.5)
    # WHEN probed THEN it is not an interpreter, well before it would have finished
    started = time.monotonic()
    assert probe(str(hanging)) is None
    assert time.monotonic() - started < 10
