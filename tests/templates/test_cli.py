"""`python -m tracking_templates` as users run it: separate processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tracking_templates.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = REPO_ROOT / "docs" / "architecture.mmd"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracking_templates", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=60,
    )


def test_output_is_byte_identical_across_processes(rendered: dict[str, str]) -> None:
    # GIVEN two separate processes (different hash seeds)
    first, second = _run("--env", "prod"), _run("--env", "prod")
    # THEN both print exactly the same template, the one the library builds
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout == rendered["prod"]
    assert first.stderr == ""


@pytest.mark.parametrize("env", ["Prod", "-dev", "dev_1", "", "x" * 21])
def test_bad_env_exits_2_with_one_line_and_no_stdout(env: str) -> None:
    result = _run("--env", env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_format_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--format", "xml"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().out == ""


def test_output_file_and_yaml(tmp_path: Path, rendered: dict[str, str], capsys) -> None:
    # GIVEN -o FILE in a directory that does not exist yet
    json_file, yaml_file = tmp_path / "out" / "t.json", tmp_path / "t.yaml"
    # WHEN both formats are written
    assert main(["--env", "staging", "-o", str(json_file)]) == 0
    assert main(["--env", "staging", "--format", "yaml", "-o", str(yaml_file)]) == 0
    # THEN nothing goes to stdout, the JSON is the template, the YAML the same data in the same order
    assert capsys.readouterr().out == ""
    assert json_file.read_text(encoding="utf-8") == rendered["staging"]
    as_yaml = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))
    as_json = json.loads(rendered["staging"])
    assert as_yaml == as_json
    assert list(as_yaml["Resources"]) == list(as_json["Resources"])


def test_unwritable_output_is_exit_2(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["-o", str(blocker / "t.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err


def test_other_env_names_default_their_environment_parameter(capsys) -> None:
    assert main(["--env", "feature-7"]) == 0
    assert json.loads(capsys.readouterr().out)["Parameters"]["Environment"]["Default"] == "feature-7"


def test_architecture_diagram_in_docs_is_current(capsys) -> None:
    # GIVEN the diagram committed for the README  WHEN it is generated afresh
    assert main(["--format", "mermaid"]) == 0
    fresh = capsys.readouterr().out
    # THEN they agree (regenerate: python -m tracking_templates --format mermaid -o docs/architecture.mmd)
    assert DIAGRAM.read_text(encoding="utf-8") == fresh


def test_diagram_shows_every_resource_and_reference(dev: dict, capsys) -> None:
    assert main(["--format", "mermaid"]) == 0
    diagram = capsys.readouterr().out
    assert diagram.startswith("flowchart LR\n")
    for name in dev["Resources"]:
        assert f"    {name}[" in diagram
    assert "  TrackingFunction --> TrackingTable\n" in diagram
    assert "  NotifierStreamMapping --> NotifierFunctionAlias\n" in diagram
    assert "  NotifierFunctionAlias --> NotifierFunctionDeploymentGroup\n" in diagram


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failing_stdout_is_one_line_not_a_traceback() -> None:
    # GIVEN stdout on a device that refuses writes
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "tracking_templates"], stdout=full, stderr=subprocess.PIPE,
                                text=True, cwd=REPO_ROOT, check=False, timeout=60)
    # THEN one clear line and a failure status
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot write to stdout" in result.stderr


def test_help_is_argparse_complete(capsys) -> None:
    # WHEN --help is asked for (argparse, not the plain-line reader, answers it)
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    # THEN every flag is described, and nothing else happens
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for text in ("--env ENV", "--format {json,yaml,mermaid,openapi}", "--config FILE", "--print-settings", "--output FILE", "^[a-z][a-z0-9-]{0,19}$"):
        assert text in usage
    # argparse 3.13 spells the short option "-o, --output FILE"; earlier ones "-o FILE, --output FILE"
    assert "-o, --output FILE" in usage or "-o FILE, --output FILE" in usage


def _installed_copy(root: Path) -> Path:
    """A virtualenv holding tracking_templates and setup.cfg's data_files as a regular install lays them out."""
    import configparser
    import shutil
    import site
    import venv

    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    site_packages = Path(subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                                        capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies come from this interpreter's site-packages; the project itself only from the copy
    (site_packages / "parent.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    shutil.copytree(REPO_ROOT / "tracking_templates", site_packages / "tracking_templates")
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    for destination, files in config["options.data_files"].items():
        for name in files.split():
            (root / destination).mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / name, root / destination)
    return python


@pytest.mark.slow
def test_a_regular_install_generates_the_template_without_a_checkout(tmp_path: Path) -> None:
    # GIVEN the generator installed the way `pip install .` lays it out (no functions/ beside it)
    python = _installed_copy(tmp_path / "venv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # WHEN it runs away from any checkout
    installed = subprocess.run([str(python), "-m", "tracking_templates", "--env", "prod"], cwd=elsewhere,
                               capture_output=True, text=True, check=False, timeout=120)
    # THEN it reads the function sources setup.cfg installed, and prints the checkout's template
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert installed.stdout == _run("--env", "prod").stdout


def test_without_troposphere_installed_it_says_how_to_install_in_one_line() -> None:
    # GIVEN a checkout whose interpreter cannot import troposphere (the README's first command not run)
    hide = (
        "import sys, runpy\n"
        "class Hidden:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'troposphere' or name.startswith('troposphere.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hidden())\n"
        "sys.argv = ['tracking_templates']\n"
        "runpy.run_module('tracking_templates', run_name='__main__')\n"
    )
    # WHEN the generator runs
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True,
                            cwd=REPO_ROOT, check=False, timeout=60)
    # THEN it exits 2 with one line naming the package and the install command, and writes no template
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "python -m tracking_templates: error: troposphere is not installed; install the project first: "
        "python -m pip install -c constraints.txt -e .\n"
    )
