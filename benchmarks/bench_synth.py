"""Synth figure: `python -m tracking_templates` vs a bare import of the troposphere/awacs it uses.

A: the whole CLI process (JSON to /dev/null), its own modules loaded from bytecode as after an
install. B: a process that imports exactly the troposphere and awacs modules the generator ends
up importing (found by asking a generator process). Alternating A, B; median of N pairs; prints
both medians and the ratio (goal: <= 1.5).

    python benchmarks/bench_synth.py [--pairs 15] [--env dev]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

_LIST_MODULES = """
import json, sys
from tracking_templates.cli import render
render({env!r})
print(json.dumps({{
    "libraries": sorted(m for m in sys.modules if m.split(".")[0] in ("troposphere", "awacs")),
    "own": sorted({{getattr(m, "__file__", None) or "" for m in list(sys.modules.values())}}),
}}))
"""


def generator_modules(env: str) -> tuple[list[str], list[Path]]:
    """The troposphere and awacs modules a generator process imports, and the repository's own
    source files it loads."""
    out = subprocess.run([sys.executable, "-c", _LIST_MODULES.format(env=env)], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    found = json.loads(out)
    own = [Path(f) for f in found["own"] if f.endswith(".py") and Path(f).is_relative_to(REPO_ROOT)]
    return found["libraries"], [*own, REPO_ROOT / "tracking_templates" / "__main__.py"]  # -m runs it too


def compile_like_an_install(sources: list[Path]) -> str:
    """Write the bytecode of the generator's own modules, as installing the package does.

    B's libraries load the bytecode pip wrote when it installed them; A's own modules must too,
    or A pays for compiling them on every run (about 10 ms) whenever bytecode is not written
    (PYTHONDONTWRITEBYTECODE, a read-only checkout). py_compile writes it regardless of that
    setting; an unchanged file keeps its bytecode.
    """
    for source in sources:
        py_compile.compile(str(source), doraise=True)
    cached = sum(Path(importlib.util.cache_from_source(str(p))).exists() for p in sources)
    note = " (PYTHONDONTWRITEBYTECODE is set: compiled here)" if "PYTHONDONTWRITEBYTECODE" in os.environ else ""
    return f"bytecode for {cached} of its {len(sources)} source files{note}"


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Measure and print the synth ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    modules, own = generator_modules(args.env)
    own_state = compile_like_an_install(own)
    a_cmd = [sys.executable, "-m", "tracking_templates", "--env", args.env]
    b_cmd = [sys.executable, "-c", "import " + ", ".join(modules)]
    _time(a_cmd), _time(b_cmd)  # warm the file cache and bytecode
    a_times, b_times = [], []
    for _ in range(max(args.pairs, 9)):
        a_times.append(_time(a_cmd))
        b_times.append(_time(b_cmd))
    a, b = statistics.median(a_times), statistics.median(b_times)
    print(f"A's own code: {own_state}")
    print(f"modules in the floor: {len(modules)} ({', '.join(m for m in modules if m.count('.') == 1)})")
    print(f"A python -m tracking_templates: median {a * 1000:.1f} ms over {len(a_times)} runs")
    print(f"B import troposphere/awacs only: median {b * 1000:.1f} ms over {len(b_times)} runs")
    print(f"synth ratio A/B: {a / b:.2f} (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
