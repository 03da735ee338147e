"""The example CI workflow: plans on pull requests, deploys on main, OIDC only."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.deploy import command as deploy

WORKFLOW = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "deploy.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _deploy_args(job: dict) -> list[str]:
    """The flags of the job's `python -m scripts.deploy` command, as argparse will see them."""
    [script] = [s["run"] for s in job["steps"] if "scripts.deploy" in s.get("run", "")]
    command = script.split("|")[0].replace("\\\n", " ")
    words = shlex.split(command)
    return words[words.index("scripts.deploy") + 1 :]


def test_pull_requests_get_an_unexecuted_change_set_and_main_deploys(workflow: dict) -> None:
    # GIVEN the workflow's two jobs
    plan, job = workflow["jobs"]["plan"], workflow["jobs"]["deploy"]
    # THEN the PR job stops at the change set, and the main job executes
    assert "pull_request" in plan["if"] and "--no-execute" in _deploy_args(plan)
    assert "refs/heads/main" in job["if"] and "--no-execute" not in _deploy_args(job)
    # AND both command lines are valid for scripts.deploy
    for args in (_deploy_args(plan), _deploy_args(job)):
        parsed = deploy.parse_args(args)
        assert parsed.stack_name


def test_credentials_come_from_oidc_role_assumption_never_stored_keys(workflow: dict) -> None:
    # GIVEN the workflow: an OIDC token only for the jobs that assume a role, not the whole run
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
    text = WORKFLOW.read_text()
    # THEN no access keys or secrets appear, and each job assumes a role
    assert "aws-access-key-id" not in text and "secrets." not in text
    for job in workflow["jobs"].values():
        [creds] = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
        assert creds["with"]["role-to-assume"]


def test_actions_are_pinned_by_commit_sha_with_their_release_and_checkouts_keep_no_token(workflow: dict) -> None:
    # GIVEN every `uses:` line of the workflow
    uses = re.findall(r"uses: (\S+)(.*)", WORKFLOW.read_text())
    assert len(uses) == 7
    # THEN each names a full commit SHA (a moved tag cannot run), its release in a comment
    for action, comment in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (action, comment)
    # AND no checkout leaves the job's token in .git/config for later steps
    for job in workflow["jobs"].values():
        [checkout] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
        assert checkout["with"]["persist-credentials"] is False


def test_jobs_install_the_locked_versions_with_the_runtime_python_and_plans_upload_nothing(workflow: dict) -> None:
    # GIVEN the two jobs
    for job in workflow["jobs"].values():
        [setup] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
        # THEN Python is the Lambda runtime's (it compiles the bytecode), installs are constrained
        assert setup["with"]["python-version"] == "3.13"
        assert [s["run"] for s in job["steps"] if "pip install" in s.get("run", "")] == [
            "python -m pip install -c constraints.txt ."
        ]
    # AND a plan names the code keys without writing the bucket; the deploy uploads
    assert "--no-upload" in _deploy_args(workflow["jobs"]["plan"])
    assert "--no-upload" not in _deploy_args(workflow["jobs"]["deploy"])


@pytest.mark.parametrize("linter", [["actionlint"], ["zizmor", "--offline", "--persona", "pedantic"]])
def test_the_workflow_passes_its_linters(linter: list[str]) -> None:
    # WHEN actionlint / zizmor (the dev extra's) read the workflows THEN nothing is reported
    tool = str(Path(sys.executable).with_name(linter[0]))
    result = subprocess.run([tool, *linter[1:], str(WORKFLOW.parent)] if linter[0] == "zizmor"
                            else [tool, str(WORKFLOW)], capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
