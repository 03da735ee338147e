"""cfn-lint (with informational rules) reports nothing on any environment's template;
checkov too, where it is installed (CI installs it in its own venv: .ci/checkov)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from .conftest import ENVIRONMENTS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cfn_lint_with_informational_rules_reports_nothing(env: str, rendered: dict[str, str]) -> None:
    # GIVEN the template  WHEN cfn-lint runs every rule, informational ones included (-c I)
    matches = lint(rendered[env], config=ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    # THEN it finds nothing
    assert [str(m) for m in matches] == []


def test_cfn_lint_really_reports_a_broken_template(rendered: dict[str, str]) -> None:
    # GIVEN the dev template with a Lambda runtime AWS retired
    broken = rendered["dev"].replace('"Runtime": "python3.', '"Runtime": "python2.', 1)
    # THEN the same call finds it (the test above is not vacuous)
    assert lint(broken, config=ManualArgs(include_checks=["I"], regions=["us-east-1"]))


# $CHECKOV, else the venv .ci/checkov builds, else one on PATH.
_CI_CHECKOV = Path(__file__).resolve().parents[2] / "build" / "checkov-venv" / "bin" / "checkov"
CHECKOV = os.environ.get("CHECKOV") or (str(_CI_CHECKOV) if _CI_CHECKOV.exists() else shutil.which("checkov"))


@pytest.mark.skipif(not CHECKOV, reason="checkov is not installed here (.ci/checkov runs it in its own venv)")
def test_checkov_reports_no_failed_check(tmp_path, rendered: dict[str, str]) -> None:
    # GIVEN every environment's template in one directory
    for env in ENVIRONMENTS:
        (tmp_path / f"{env}.json").write_text(rendered[env], encoding="utf-8")
    # WHEN checkov checks them all in one run
    result = subprocess.run(
        [CHECKOV, "-d", str(tmp_path), "--framework", "cloudformation", "--skip-download", "-o", "json", "--quiet"],
        capture_output=True, text=True, check=False, timeout=180,
    )
    # THEN nothing fails (inapplicable checks are skipped in Metadata, with a reason)
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, result.stdout[:3000]
    assert report["summary"]["passed"] > 0
    assert result.returncode == 0
