"""Mutation testing of one module against the tests that import it (mutmut 3), run from the repo root:

    python tools/mutation.py functions/tracking/tracking_api/validation.py [--diff] [--fail-under 95]

Prints mutants, killed, survived and the score, then lists the survivors (with their diffs on
--diff). mutmut's own settings are in pyproject.toml's [tool.mutmut]; this runner adds the two
things that depend on the module: only that file is mutated, and the test selection is the test
files that import it (--tests replaces it). Every run starts from a fresh `mutants/` directory
(git-ignored), which stays behind so that `mutmut show NAME` / `mutmut browse` work afterwards.

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
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

MUTANTS_DIR = Path("mutants")
TESTS_DIR = Path("tests")
# Exit codes of a mutant's test run (mutmut's status_by_exit_code), grouped as this report counts them.
KILLED = ("killed", "timeout", "caught by type check")
SURVIVED = ("survived", "no tests", "suspicious", "segfault", "skipped", "not checked")


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


@dataclass(frozen=True)
class Summary:
    """The outcome of one run: mutant name -> mutmut status."""

    status_by_mutant: dict[str, str]

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
        """One line: mutants, killed (of which timed out), survived, score."""
        total, survived = len(self.status_by_mutant), len(self.survivors)
        timeouts = sum(status == "timeout" for status in self.status_by_mutant.values())
        killed = f"killed {self.killed}" + (f" ({timeouts} timed out)" if timeouts else "")
        return f"mutants {total}  {killed}  survived {survived}  score {self.score:.1f} %"

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


def run(target: Path, tests: Iterable[str], jobs: int) -> Summary:
    """Mutate `target` alone, run mutmut against `tests`, and return the statuses it recorded."""
    import mutmut.__main__ as mutmut_main
    from mutmut.configuration import config
    from mutmut.mutation.data import SourceFileMutationData
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
    return Summary({name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()})


def diff(mutant: str, target: Path) -> str:
    """The unified diff mutmut shows for `mutant` of `target` (needs the `mutants/` of the last run)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(mutant, path=target)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mutation testing of one module against the tests that import it.")
    parser.add_argument("module", type=Path, help="the .py file to mutate, relative to the repo root")
    parser.add_argument(
        "--tests", nargs="+", metavar="PATH", help="pytest selection (default: the test files importing it)"
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
    tests = args.tests or importing_tests(module)
    if not tests:
        print(f"mutation: no test file imports {module}; name them with --tests", file=sys.stderr)
        return 2
    summary = run(target, tests, args.jobs)
    out(f"{target} ({module}) against {' '.join(tests)}")
    out(summary.counts())
    if summary.survivors:
        out("survivors:")
    for name in summary.survivors:
        out(summary.survivor_line(name))
        if args.diff:
            out(diff(name, target))
    return 1 if args.fail_under is not None and summary.score < args.fail_under else 0


if __name__ == "__main__":
    raise SystemExit(main())
