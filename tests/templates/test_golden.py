"""The whole template per environment against a golden file: any change is a readable diff.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/templates/test_golden.py`
and review the diff in git.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from .conftest import ENVIRONMENTS

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_template_matches_golden_file(env: str, rendered: dict[str, str]) -> None:
    # GIVEN the template as generated now and the reviewed golden copy
    golden = GOLDEN_DIR / f"{env}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered[env], encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    # WHEN they are compared line by line
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            rendered[env].splitlines(keepends=True),
            fromfile=f"golden/{env}.json",
            tofile=f"generated ({env})",
        )
    )
    # THEN they are identical (else the diff says what changed)
    assert not diff, f"template for {env} differs from its golden file (UPDATE_GOLDEN=1 to accept):\n{diff}"
