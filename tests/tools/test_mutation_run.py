"""The mutation runner for real: mutmut on a small project laid out like ours (a function folder
that is not a package, its tests putting it on sys.path), with a thread pool the tests warm up and
a loop a mutant makes endless."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import mutmut.configuration
import pytest

from tools import mutation

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE = "functions/demo/demo_pkg/calc.py"
PYPROJECT = """\
[tool.mutmut]
source_paths = ["functions"]
pytest_add_cli_args = ["-p", "no:cacheprovider"]
process_isolation = "forkserver"
timeout_constant = 0.5
timeout_multiplier = 2.0
"""
# `double` goes through a pool that outlives a test, as the listing's shard queries do: forked from
# a process that had run the tests, every one of its mutants waited forever (mutmut's default
# isolation timed out all nine). `count_up`'s mutants 4 and 5 (`i -= 1`, `i = 1`) never end.
FILES = {
    "functions/demo/demo_pkg/__init__.py": "",
    MODULE: """\
        from concurrent.futures import ThreadPoolExecutor
        from functools import lru_cache


        @lru_cache(maxsize=None)
        def pool() -> ThreadPoolExecutor:
            return ThreadPoolExecutor(max_workers=1)


        def double(x: int) -> int:
            return pool().submit(max, x * 2, 0).result()


        def count_up(n: int) -> int:
            i = 0
            while i < n:
                i += 1
            return i
        """,
    "tests/__init__.py": "",
    "tests/conftest.py": """\
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions" / "demo"))
        """,
    "tests/test_calc.py": """\
        from demo_pkg import calc


        def test_double() -> None:
            assert calc.double(3) == 6


        def test_count_up() -> None:
            assert calc.count_up(3) == 3
        """,
    "tests/test_unrelated.py": "def test_nothing() -> None:\n    assert True\n",
}
# The runner as `python tools/mutation.py` runs it, with shorter re-runs (the hung ones wait that long).
RUNNER = f"""
import sys
sys.path.insert(0, {str(REPO_ROOT)!r})
from tools import mutation
mutation.RERUN_MIN_S, mutation.RERUN_FACTOR = 5.0, 3
raise SystemExit(mutation.main(sys.argv[1:]))
"""


def write_project(root: Path, pyproject: str = PYPROJECT) -> Path:
    """The demo project under `root`."""
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The demo project after one run of the runner on its module, and the report's lines."""
    root = write_project(tmp_path_factory.mktemp("demo"))
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, MODULE, "--tests", "tests"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    return root, lines[next(i for i, line in enumerate(lines) if line.startswith(MODULE)) :]


@pytest.fixture
def in_project(demo_run: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The current folder is the demo project, with mutmut's settings read from its pyproject."""
    monkeypatch.chdir(demo_run[0])
    mutmut.configuration.reset_config()
    yield demo_run[0]
    mutmut.configuration.reset_config()


def test_a_run_reports_selection_reach_score_reruns_and_survivors(demo_run: tuple[Path, list[str]]) -> None:
    # GIVEN the demo module  WHEN the runner mutates it  THEN no mutant of the pooled `double`
    # deadlocks (mutant 9, `max(x * 2, 1)`, is equivalent for the input tested and survives), and
    # the two endless loops time out, hang again when re-run alone and are not counted as killed
    assert demo_run[1] == [
        f"{MODULE} (demo_pkg.calc) against tests",
        "reached by tests/test_calc.py",
        "mutants 15  killed 11  survived 4  score 73.3 %",
        "timed out under mutmut 2: re-run alone, 0 failed a test (killed), 0 passed (survived), 2 hung again (not killed)",
        "survivors:",
        "  demo_pkg.calc.x_count_up__mutmut_2",
        "  demo_pkg.calc.x_count_up__mutmut_4  (hung alone)",
        "  demo_pkg.calc.x_count_up__mutmut_5  (hung alone)",
        "  demo_pkg.calc.x_double__mutmut_9",
    ]


def test_a_timeout_rerun_alone_counts_only_a_failing_test_as_a_kill(in_project: Path) -> None:
    # GIVEN mutmut had reported a killed and an equivalent mutant as timed out
    tests = {"demo_pkg.calc.x_double": {"tests/test_calc.py::test_double"}}
    outcome = mutation.Run(
        {"demo_pkg.calc.x_double__mutmut_1": "timeout", "demo_pkg.calc.x_double__mutmut_9": "segfault"}, tests
    )
    # WHEN each is re-run alone in a fresh interpreter
    summary = mutation.confirm_unclear(outcome)
    # THEN the one a test fails on is killed, the other survives
    assert summary.status_by_mutant == {
        "demo_pkg.calc.x_double__mutmut_1": "killed alone",
        "demo_pkg.calc.x_double__mutmut_9": "survived alone",
    }
    assert summary.rerun == summary.status_by_mutant
    assert summary.score == 50.0


def test_a_rerun_refuses_tests_that_fail_without_a_mutant(in_project: Path) -> None:
    broken = in_project / "mutants" / "tests" / "test_broken.py"
    broken.write_text("def test_broken() -> None:\n    assert False\n", encoding="utf-8")
    outcome = mutation.Run(
        {"demo_pkg.calc.x_double__mutmut_1": "timeout"}, {"demo_pkg.calc.x_double": {"tests/test_broken.py"}}
    )
    try:
        with pytest.raises(SystemExit, match="^mutation: the tests reaching demo_pkg.calc.x_double fail without a mutant"):
            mutation.confirm_unclear(outcome)
    finally:
        broken.unlink()


def test_mutants_forked_from_the_process_that_ran_the_tests_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a project that keeps mutmut's default isolation
    write_project(tmp_path, PYPROJECT.replace('process_isolation = "forkserver"\n', ""))
    monkeypatch.chdir(tmp_path)
    mutmut.configuration.reset_config()
    try:
        # WHEN the runner is asked to run  THEN it exits 2 with one line and runs nothing
        assert mutation.main([MODULE, "--tests", "tests"]) == 2
    finally:
        mutmut.configuration.reset_config()
    message = 'mutation: pyproject.toml must set process_isolation = "forkserver" in [tool.mutmut]\n'
    assert capsys.readouterr().err == message
    assert not (tmp_path / "mutants").exists()


def test_the_projects_own_settings_fork_from_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    mutmut.configuration.reset_config()
    try:
        assert mutation.forks_from_a_server()
    finally:
        mutmut.configuration.reset_config()
