"""Mutation testing of one module against the tests that exercise it (mutmut 3), run from the repo root:

    python tools/mutation.py functions/tracking/tracking_api/validation.py [--diff] [--fail-under 95]

Prints the test selection, the test files that reached the module, mutants, killed, survived and the
score, then lists the survivors (with their diffs on --diff). mutmut's own settings are in
pyproject.toml's [tool.mutmut]; this runner adds what depends on the module: only that file is
mutated, the tests are those of the code it belongs to (`BEHAVIOUR_TESTS`; outside those trees the
test files that import it; --tests replaces either), and a mutant that timed out is re-run alone
before it may count. Every run starts from a fresh `mutants/` directory (git-ignored), which stays
behind so that `mutmut show NAME` / `mutmut browse` work afterwards.

Why a runner and not plain `mutmut run`: mutmut names a mutant after its file path
(functions.tracking.tracking_api.validation.x_parse__mutmut_1) and activates it by comparing that
name with the function's `__module__` at run time, but the tests import the Lambda code as the zip
lays it out (`tracking_api.validation`, with functions/tracking on sys.path). Naming mutants after
their import path (the file's path below its outermost package) makes the two agree without
moving any code; scripts.* and tracking_templates.* are unchanged by that rule.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MUTANTS_DIR = Path("mutants")
TESTS_DIR = Path("tests")
# The tests that exercise the code of each tree, whatever they import: the handler tests drive
# tracking_api's storage and listing; the listing's tests project state with the notifier's
# projection and sharding (a coverage run with test contexts found exactly these). mutmut's stats
# run records which of them reach each function, and a mutant runs only those.
BEHAVIOUR_TESTS: dict[str, tuple[str, ...]] = {
    "functions/tracking/": ("tests/functions/tracking",),
    "functions/notifier/": (
        "tests/functions/notifier",
        "tests/functions/tracking/test_listing.py",
        "tests/functions/tracking/test_handler_shipments.py",
        "tests/functions/tracking/test_query_cap.py",
    ),
}
# Exit codes of a mutant's test run (mutmut's status_by_exit_code), grouped as this report counts
# them. A timeout is never a kill by itself: it is re-run alone first (`confirm_unclear`).
KILLED = ("killed", "caught by type check", "killed alone")
# Ran out of CPU or wall time, died of a signal, or pytest stopped early (exit 2): re-run alone.
UNCLEAR = ("timeout", "segfault", "suspicious", "check was interrupted by user")
SURVIVED = ("survived", "no tests", "skipped", "not checked", "survived alone", "hung alone", *UNCLEAR)
# A re-run alone may take this many times its tests' clean run, and at least RERUN_MIN_S seconds.
RERUN_FACTOR = 5
RERUN_MIN_S = 30.0


def import_root(path: Path) -> Path:
    """The directory that must be on sys.path to import `path`: the parent of its outermost package."""
    root = path.parent
    while (root / "__init__.py").is_file():
        root = root.parent
    return root


def module_name(path: Path) -> str:
    """The dotted name `path` is imported as (functions/tracking/tracking_api/x.py -> tracking_api.x)."""
    parts = path.relative_to(import_root(path)).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str) -> set[str]:
    """Every absolute module a Python source imports, at any depth (`from a import b` yields a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def importing_tests(module: str, tests_dir: Path = TESTS_DIR) -> list[str]:
    """The test files under `tests_dir` that import `module` (the narrow selection), sorted."""
    return sorted(
        path.as_posix()
        for path in tests_dir.rglob("test_*.py")
        if module in imported_modules(path.read_text(encoding="utf-8"))
    )


def behaviour_tests(path: Path, table: Mapping[str, tuple[str, ...]] = BEHAVIOUR_TESTS) -> list[str]:
    """The tests of the tree `path` belongs to (the longest matching prefix in `table`), or none."""
    matches = [prefix for prefix in table if path.as_posix().startswith(prefix)]
    return list(table[max(matches, key=len)]) if matches else []


def reaching_files(module: str, tests_by_function: Mapping[str, Iterable[str]]) -> list[str]:
    """The test files whose tests reached a function of `module` in mutmut's stats run, sorted."""
    return sorted(
        {
            test.partition("::")[0]
            for function, tests in tests_by_function.items()
            if function.rpartition(".")[0] == module
            for test in tests
        }
    )


@dataclass(frozen=True)
class Summary:
    """The outcome of one run: mutant name -> status (mutmut's, or the re-run's for unclear ones)."""

    status_by_mutant: dict[str, str]
    # The mutants mutmut saw time out (or die of a signal) -> what their re-run alone showed.
    rerun: dict[str, str] = field(default_factory=dict)

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.status_by_mutant.values())

    @property
    def survivors(self) -> list[str]:
        """Mutants no test failed on, in source order (function, then mutant number)."""
        return sorted(
            (name for name, status in self.status_by_mutant.items() if status in SURVIVED),
            key=lambda name: (name.rpartition("__mutmut_")[0], int(name.rpartition("__mutmut_")[2])),
        )

    @property
    def score(self) -> float:
        """Killed mutants as a percentage of all mutants (100 when there are none)."""
        total = len(self.status_by_mutant)
        return 100.0 * self.killed / total if total else 100.0

    def counts(self) -> str:
        """One line: mutants, killed, survived, score."""
        total, survived = len(self.status_by_mutant), len(self.survivors)
        return f"mutants {total}  killed {self.killed}  survived {survived}  score {self.score:.1f} %"

    def rerun_line(self) -> str:
        """One line on the mutants that timed out under mutmut and what re-running each alone showed."""
        outcomes = list(self.rerun.values())
        return (
            f"timed out under mutmut {len(outcomes)}: re-run alone, {outcomes.count('killed alone')} failed a test"
            f" (killed), {outcomes.count('survived alone')} passed (survived),"
            f" {outcomes.count('hung alone')} hung again (not killed)"
        )

    def survivor_line(self, name: str) -> str:
        """A survivor's name, with its status when it is not plainly 'survived' (e.g. 'no tests')."""
        status = self.status_by_mutant[name]
        return f"  {name}" + ("" if status == "survived" else f"  ({status})")


def _name_mutants_by_import_path() -> None:
    """Make mutmut derive a mutant's module from the file's import path instead of its repo path."""
    import mutmut.__main__
    import mutmut.mutation.file_mutation
    import mutmut.utils.format_utils as format_utils

    by_repo_path = format_utils.get_mutant_name

    def get_mutant_name(relative_source_path: Path, mutant_method_name: str) -> str:
        path = Path(relative_source_path)
        return by_repo_path(path.relative_to(import_root(path)), mutant_method_name)

    for module in (format_utils, mutmut.__main__, mutmut.mutation.file_mutation):
        if getattr(module, "get_mutant_name", None) is not by_repo_path:
            raise SystemExit(f"mutation: unsupported mutmut version (no get_mutant_name in {module.__name__})")
        module.get_mutant_name = get_mutant_name


@dataclass(frozen=True)
class Run:
    """What one mutmut run recorded: each mutant's status and the tests that reached each function."""

    status_by_mutant: dict[str, str]
    tests_by_function: dict[str, set[str]]


def forks_from_a_server() -> bool:
    """Whether mutmut forks each mutant from a server that has only collected the tests.

    Forked from the process that ran them (mutmut's default), a mutant inherits their thread pools
    without the threads and can wait forever on a future: a timeout that looks like a kill.
    """
    from mutmut.configuration import ProcessIsolation, config

    return config().process_isolation is ProcessIsolation.FORKSERVER


def run(target: Path, tests: Iterable[str], jobs: int) -> Run:
    """Mutate `target` alone, run mutmut against `tests`, and return what it recorded."""
    import mutmut.__main__ as mutmut_main
    from mutmut.configuration import config
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.state import state
    from mutmut.stats import status_by_exit_code

    _name_mutants_by_import_path()
    settings = config()
    settings.only_mutate = [target.as_posix()]
    settings.pytest_add_cli_args_test_selection = list(tests)
    shutil.rmtree(MUTANTS_DIR, ignore_errors=True)  # stale copies of other files would be tested too
    try:
        mutmut_main._run((), jobs)  # the click command's body
    except SystemExit as stop:  # mutmut exits 1 when the clean run fails or no test covers the module
        if stop.code:
            raise
    data = SourceFileMutationData(path=target)
    data.load()
    return Run(
        status_by_mutant={name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()},
        tests_by_function={name: set(tests) for name, tests in state().tests_by_mangled_function_name.items()},
    )


def pytest_command(tests: Iterable[str]) -> list[str]:
    """A plain pytest run of `tests` inside mutants/, with the arguments mutmut gives each mutant."""
    from mutmut.configuration import config

    return [
        sys.executable, "-m", "pytest", "--rootdir=.", "--tb=native", "-x", "-q",
        "-p", "no:randomly", "-p", "no:random-order", *config().pytest_add_cli_args, *tests,
    ]  # fmt: skip


def run_alone(mutant: str, tests: list[str], limit_s: float | None) -> tuple[int | None, float]:
    """Run `tests` in a fresh interpreter (no fork) with `mutant` active ("" for none).

    Returns pytest's exit code (None when it ran past `limit_s` and was killed) and the wall time.
    """
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant}
    start = time.monotonic()
    # Its own session, so that a hung run is killed with every process it started.
    with subprocess.Popen(
        pytest_command(tests),
        cwd=MUTANTS_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            code: int | None = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
    return code, time.monotonic() - start


def rerun_outcome(code: int | None) -> str:
    """The status a re-run alone earns: only a test that failed (pytest exit 1) is a kill."""
    if code is None:
        return "hung alone"
    return "killed alone" if code == 1 else "survived alone"


def confirm_unclear(outcome: Run) -> Summary:
    """Re-run each mutant mutmut saw time out alone, without fork, and keep what that shows."""
    from mutmut.utils.format_utils import mangled_name_from_mutant_name

    statuses = dict(outcome.status_by_mutant)
    rerun: dict[str, str] = {}
    clean_time: dict[tuple[str, ...], float] = {}  # the clean run of each set of tests, timed once
    for name in sorted(name for name, status in statuses.items() if status in UNCLEAR):
        function = mangled_name_from_mutant_name(name)
        tests = sorted(outcome.tests_by_function.get(function, ()))
        if not tests:
            continue
        key = tuple(tests)
        if key not in clean_time:
            code, clean_time[key] = run_alone("", tests, None)
            if code != 0:
                raise SystemExit(f"mutation: the tests reaching {function} fail without a mutant (exit {code})")
        code, _ = run_alone(name, tests, max(RERUN_MIN_S, RERUN_FACTOR * clean_time[key]))
        rerun[name] = statuses[name] = rerun_outcome(code)
    return Summary(statuses, rerun)


def diff(mutant: str, target: Path) -> str:
    """The unified diff mutmut shows for `mutant` of `target` (needs the `mutants/` of the last run)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(mutant, path=target)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mutation testing of one module against the tests that exercise it.")
    parser.add_argument("module", type=Path, help="the .py file to mutate, relative to the repo root")
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="PATH",
        help="pytest selection (default: the tests of the module's tree, else the test files importing it)",
    )
    parser.add_argument("--diff", action="store_true", help="print each survivor's diff")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested in parallel (default 2)")
    parser.add_argument("--fail-under", type=float, metavar="PERCENT", help="exit 1 when the score is below this")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Run mutmut on one module and print the report; 2 on bad input, 1 under --fail-under."""
    args = _arguments(argv)
    target: Path = args.module
    if target.is_absolute() or target.suffix != ".py" or not target.is_file():
        print(f"mutation: {target} is not a .py file relative to the repo root", file=sys.stderr)
        return 2
    module = module_name(target)
    tests = args.tests or behaviour_tests(target) or importing_tests(module)
    if not tests:
        print(f"mutation: no test file imports {module}; name them with --tests", file=sys.stderr)
        return 2
    if not forks_from_a_server():
        print('mutation: pyproject.toml must set process_isolation = "forkserver" in [tool.mutmut]', file=sys.stderr)
        return 2
    outcome = run(target, tests, args.jobs)
    summary = confirm_unclear(outcome)
    out(f"{target} ({module}) against {' '.join(tests)}")
    out(f"reached by {' '.join(reaching_files(module, outcome.tests_by_function)) or 'no test'}")
    out(summary.counts())
    if summary.rerun:
        out(summary.rerun_line())
    if summary.survivors:
        out("survivors:")
    for name in summary.survivors:
        out(summary.survivor_line(name))
        if args.diff:
            out(diff(name, target))
    return 1 if args.fail_under is not None and summary.score < args.fail_under else 0


if __name__ == "__main__":
    raise SystemExit(main())
