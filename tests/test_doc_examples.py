"""Every example the README, docs/ and `tracking-client --help` give for the local API runs as
written against a live `python -m scripts.local` (only its URL differs: the test picks a free port)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts.local.support import Client
from tests.scripts.local.test_local_e2e import LocalApi, local_api  # noqa: F401 - fixture: one scripts.local for this module
from tracking_client.cli import EXAMPLES

# moto (in this process) warns about each resource type it skips while the examples deploy.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED_URL = "http://127.0.0.1:3000/dev"
DOCS = ["README.md", "docs/local.md", "docs/api.md"]


def local_examples() -> list[tuple[str, str, str]]:
    """(where, language, code) of each fenced sh/python block that calls the documented local URL."""
    found = []
    for name in DOCS:
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        for number, match in enumerate(re.finditer(r"```(sh|python)\n(.*?)```", text, re.S), start=1):
            language, code = match.groups()
            if DOCUMENTED_URL in code and ("tracking_client" in code or "curl " in code):
                found.append((f"{name} block {number}", language, code))
    return found


def help_example() -> str:
    """The local part of `tracking-client --help`'s examples, as shell lines."""
    local = EXAMPLES.split("\nagainst a deployed stack", 1)[0].splitlines()[1:]
    return "\n".join(line.strip() for line in local)


def run(language: str, code: str, base_url: str) -> subprocess.CompletedProcess[str]:
    """Run CODE as a user would, this virtualenv's python and console scripts first on PATH."""
    code = code.replace(DOCUMENTED_URL, base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRACKING_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    if language == "python":  # the shell examples export the credentials; a Python one runs after them
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"})
        command = [sys.executable, "-c", code]
    else:
        command = ["bash", "-euo", "pipefail", "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=REPO_ROOT)


def test_the_docs_have_local_examples_of_the_client_and_of_raw_http() -> None:
    # the extraction below must keep finding them (a renamed URL would silently test nothing)
    where = {w.split(" block")[0] for w, _, _ in local_examples()}
    assert where == {"README.md", "docs/local.md"}
    assert sum("curl --aws-sigv4" in code for _, _, code in local_examples()) == 2


@pytest.mark.parametrize("where, language, code", local_examples(), ids=[w for w, _, _ in local_examples()])
def test_each_documented_local_example_runs(local_api: LocalApi, where: str, language: str, code: str) -> None:  # noqa: F811
    if "curl " in code and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    result = run(language, code, local_api.base_url)
    assert result.returncode == 0, f"{where}:\n{result.stderr}"
    if language == "sh":  # each shell example tracks an update (curl prints its progress on stderr)
        assert "Tracking update stored" in result.stdout, result.stdout
        assert "curl " in code or result.stderr == ""
    else:  # each Python example prints what it read back
        assert result.stderr == "" and re.search(r"^\d{13} .*(delivered|in_transit)", result.stdout, re.M), result.stdout


def test_the_help_examples_run(local_api: LocalApi) -> None:  # noqa: F811
    result = run("sh", help_example(), local_api.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"message": "Tracking update stored"') == 1
    assert '"shipments": [' in result.stdout


def test_a_body_that_is_not_json_is_the_gateways_400_only_as_application_json(local_api: LocalApi) -> None:  # noqa: F811
    # GIVEN the README's two rows for a body that is not JSON
    client = Client(local_api.base_url)
    try:
        # WHEN it is sent as JSON, with no type, and as text/plain
        as_json = client.call("POST", "/track", raw=b"not json", headers={"Content-Type": "application/json"})
        as_text = client.call("POST", "/track", raw=b"not json", headers={"Content-Type": "text/plain"})
    finally:
        client.close()
    # THEN API Gateway's model refuses the first; no model applies to the second, the handler refuses it
    assert (as_json.status, as_json.json) == (400, {"message": "Invalid request body"})
    assert (as_text.status, as_text.json) == (400, {"error": "Invalid JSON: Expecting value: line 1 column 1 (char 0)"})


def fenced_blocks(name: str, section: str) -> list[str]:
    """The fenced sh blocks of the Markdown section titled SECTION (any level) in NAME."""
    text = (REPO_ROOT / name).read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(section)}\n(.*?)(?=^#+ )", text, re.S | re.M)
    assert match, f"{name} has no section {section!r}"
    return re.findall(r"```sh\n(.*?)```", match.group(1), re.S)


def test_the_deploy_into_moto_example_runs_as_written(moto_endpoint: str) -> None:
    # GIVEN docs/deploy.md's two blocks: start the server, then deploy into it
    start, deploy = fenced_blocks("docs/deploy.md", "Against a moto server")
    assert start.split("#")[0].strip() == "python -m moto.server -p 5000"
    # WHEN the deploy block runs against this session's moto server (the one the first block starts)
    result = run("sh", deploy.replace("http://127.0.0.1:5000", moto_endpoint), moto_endpoint)
    # THEN it deploys
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Stack tracking-dev: CREATE_COMPLETE" in result.stdout + result.stderr


def test_the_scripting_recipe_of_local_md_runs_as_written(tmp_path: Path) -> None:
    # GIVEN docs/local.md's recipe: start in the background, wait for the URL, stop
    (recipe,) = [b for b in fenced_blocks("docs/local.md", "Running the stack locally: `python -m scripts.local`")
                 if "local-url.txt" in b]
    # WHEN it runs, with a request where it says "requests against $URL"
    recipe = recipe.replace('# ... requests against "$URL" ...',
                            'python -m tracking_client status PKG-1 --url "$URL" --region us-east-1')
    env_code = "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n" + recipe
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", env_code], capture_output=True, text=True, timeout=180,
                            cwd=tmp_path, env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                                               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    # THEN the request was answered and the server stopped cleanly
    assert result.returncode == 0, (tmp_path / "local.log").read_text()[-3000:]
    assert '"tracking_id": "PKG-1"' in result.stdout
    assert (tmp_path / "local-url.txt").read_text().startswith("http://127.0.0.1:")


def test_the_deploy_help_moto_example_runs_as_written(moto_endpoint: str) -> None:
    # GIVEN the moto example of `python -m scripts.deploy --help` (it lacked a region, credentials
    # and --no-deps, and failed as written)
    epilog = subprocess.run([sys.executable, "-m", "scripts.deploy", "--help"], capture_output=True, text=True,
                            check=True, cwd=REPO_ROOT).stdout
    example = epilog.split("into a moto server started with `python -m moto.server -p 5000`", 1)[1]
    example = example.split(":\n", 1)[1].split("\n\n", 1)[0]
    # WHEN it runs in a shell, against this session's moto server (the one the help says to start)
    result = run("sh", example.replace("http://127.0.0.1:5000", moto_endpoint), moto_endpoint)
    # THEN it deploys
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Stack tracking-dev: CREATE_COMPLETE" in result.stdout + result.stderr
