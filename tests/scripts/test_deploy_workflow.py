"""The example CI workflow: plans on pull requests, deploys on main, OIDC only."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from scripts import deploy

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "deploy.yml"


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
    # GIVEN the workflow
    assert workflow["permissions"]["id-token"] == "write"
    text = WORKFLOW.read_text()
    # THEN no access keys or secrets appear, and each job assumes a role
    assert "aws-access-key-id" not in text and "secrets." not in text
    for job in workflow["jobs"].values():
        [creds] = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
        assert creds["with"]["role-to-assume"]
