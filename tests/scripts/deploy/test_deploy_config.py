"""scripts.deploy --config: the settings file's deploy table as defaults (flag > file > built-in),
the environment's settings in the synthesized template, and every kind of mistake as exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.deploy import command as deploy
from scripts.deploy.bootstrap import DEFAULT_BOOTSTRAP_STACK
from scripts.deploy.project import protection_settings, synthesize
from tracking_templates.names import Resources
from tracking_templates.settings import settings_for
from tracking_templates.settings_file import NO_FILE, loads

from ..deploy_support import FAST, client, queue_template

FILE = """\
[environments.dev.deploy]
stack_name = "tracking-dev-file"
region = "eu-west-1"
bucket = "dev-artifacts"
bootstrap_stack = "dev-bootstrap"
endpoint_url = "http://127.0.0.1:9"
[environments.dev.deploy.tags]
Team = "logistics"
Owner = "file"
[environments.dev.deploy.parameter_overrides]
NotificationEmail = "file@example.com"

[environments.prod]
listing_shards = 32
termination_protection = false
[environments.prod.api_function]
memory_mb = 1024
[environments.prod.deploy]
stack_name = "tracking-prod"
"""


def _config(tmp_path: Path, text: str = FILE, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_supplies_what_no_flag_gives(tmp_path: Path) -> None:
    # GIVEN a file with dev's deploy table  WHEN no deploy flag is given
    args = deploy.parse_args(["--config", str(_config(tmp_path))])
    # THEN every default comes from the file
    assert (args.stack_name, args.region, args.bucket, args.bootstrap_stack, args.endpoint_url) == (
        "tracking-dev-file", "eu-west-1", "dev-artifacts", "dev-bootstrap", "http://127.0.0.1:9")
    assert args.file_tags == {"Team": "logistics", "Owner": "file"}
    assert args.file_parameter_overrides == {"NotificationEmail": "file@example.com"}


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    args = deploy.parse_args([
        "--config", str(_config(tmp_path)), "--stack-name", "from-flag", "--region", "us-west-2",
        "--bucket", "flag-bucket", "--bootstrap-stack", "flag-bootstrap", "--endpoint-url", "http://127.0.0.1:8",
    ])  # fmt: skip
    assert (args.stack_name, args.region, args.bucket, args.bootstrap_stack, args.endpoint_url) == (
        "from-flag", "us-west-2", "flag-bucket", "flag-bootstrap", "http://127.0.0.1:8")


def test_without_a_file_the_built_in_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no tracking.toml here
    args = deploy.parse_args(["--stack-name", "s"])
    assert (args.region, args.bucket, args.bootstrap_stack, args.endpoint_url) == (None, None, DEFAULT_BOOTSTRAP_STACK, None)
    assert (args.file_tags, args.file_parameter_overrides) == ({}, {})
    assert args.settings_file is NO_FILE


def test_tracking_toml_in_the_current_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, name="tracking.toml")
    monkeypatch.chdir(tmp_path)
    assert deploy.parse_args([]).stack_name == "tracking-dev-file"
    # --env picks the environment's table
    args = deploy.parse_args(["--env", "prod"])
    assert (args.stack_name, args.region, args.bootstrap_stack) == ("tracking-prod", None, DEFAULT_BOOTSTRAP_STACK)


def test_the_environments_settings_reach_the_template_and_the_protection(tmp_path: Path) -> None:
    # GIVEN the file's prod settings
    settings_file = deploy.parse_args(["--config", str(_config(tmp_path)), "--env", "prod"]).settings_file
    # WHEN the deploy synthesizes prod's template
    template = synthesize("prod", settings_file).document
    # THEN it has the file's values (and the built-in profile's where the file says nothing)
    function = template["Resources"][Resources.API_FUNCTION]["Properties"]
    assert function["MemorySize"] == 1024
    assert function["ReservedConcurrentExecutions"] == settings_for("prod").api_function.reserved_concurrency
    assert synthesize("prod").document["Resources"][Resources.API_FUNCTION]["Properties"]["MemorySize"] == 512
    # AND the stack's protection follows the file (prod's profile has termination protection on)
    assert protection_settings(synthesize("prod", settings_file), {}, settings_file).termination_protection is False
    assert protection_settings(synthesize("prod"), {}).termination_protection is True


F = "settings.toml"


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        ("[environments.dev.deploy]\nstak_name = 'x'", [],
         "environments.dev.deploy.stak_name: unknown setting (did you mean stack_name?)"),
        ("[environments.dev.deploy]\nstack_name = 3", [], "environments.dev.deploy.stack_name: expected a string, got an integer (3)"),
        ("[environments.dev.deploy]\nstack_name = '1bad'", [],
         "environments.dev.deploy.stack_name: invalid stack name '1bad': use a letter, then letters, digits or hyphens "
         "(at most 128 characters)"),
        ("[environments.dev.deploy]\nbootstrap_stack = 'a_b'", ["--stack-name", "s"],
         "environments.dev.deploy.bootstrap_stack: invalid stack name 'a_b': use a letter, then letters, digits or "
         "hyphens (at most 128 characters)"),
        ("[environments.dev.deploy]\nregion = 'eu west'", ["--stack-name", "s"],
         "environments.dev.deploy.region: invalid region name 'eu west'"),
        ("[environments.dev.deploy]\nendpoint_url = 'notaurl'", ["--stack-name", "s"],
         "environments.dev.deploy.endpoint_url: Invalid endpoint: notaurl (expected http(s)://HOST[:PORT]; check --endpoint-url)"),
        ("[environments.dev.deploy.tags]\n'aws:x' = 'y'", ["--stack-name", "s"],
         "environments.dev.deploy.tags: invalid key 'aws:x': at most 128 characters, not starting with 'aws:'"),
        ("[environments.dev.deploy]\nbucket = ''", ["--stack-name", "s"], "environments.dev.deploy.bucket: bucket must not be empty"),
        ("[environments.dev.api_function]\nmemory_mb = 64", ["--stack-name", "s"],
         "environments.dev.api_function.memory_mb: memory_mb 64 not in 128..10240"),
        # a mistake in another environment's table is still one
        ("[environments.prod.deploy]\nregion = 'nowhere!'", ["--stack-name", "s"],
         "environments.prod.deploy.region: invalid region name 'nowhere!'"),
    ],
)
def test_every_mistake_in_the_file_is_exit_2_naming_the_file_and_the_key(
    text: str, argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(SystemExit) as exited:
        deploy.main(["--config", str(path), *argv])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert err == f"python -m scripts.deploy: error: {path}: {message}\n"


def test_a_missing_file_or_stack_name_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        deploy.main(["--config", str(tmp_path / "nope.toml")])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"python -m scripts.deploy: error: {tmp_path / 'nope.toml'}: cannot read: No such file or directory\n")
    # a file without a stack name for this environment: the flag is required
    path = _config(tmp_path, "[environments.dev]\nlisting_shards = 4\n")
    with pytest.raises(SystemExit) as exited:
        deploy.main(["--config", str(path), "--env", "staging"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "python -m scripts.deploy: error: the following arguments are required: --stack-name (or stack_name in "
        f"[environments.staging.deploy] of {path}) (see --help)\n")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_a_deploy_from_the_file_alone(moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a file naming the stack, region, emulator, bucket, tags and a parameter
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = tmp_path / "t.json"
    template.write_text(queue_template(Extra="default"))
    path = _config(tmp_path, f"""\
[environments.dev.deploy]
stack_name = "shop"
region = "us-east-1"
endpoint_url = "{moto_endpoint}"
bucket = "artifacts"
tags = {{Team = "logistics", Owner = "file"}}
parameter_overrides = {{Extra = "from-file"}}
""")
    # WHEN deploying with only the file and the template (and a tag flag that wins over the file's)
    code = deploy.main(["--config", str(path), "--template-file", str(template), "--tags", "Owner=flag",
                        "--output-dir", str(tmp_path / "build")], polling=FAST)
    # THEN the stack is created as the file says, the flag's tag value winning
    assert code == 0, capsys.readouterr().err
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName="shop")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {"Team": "logistics", "Owner": "flag"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Extra"] == "from-file"


def test_the_file_defaults_mirror_flags_the_deploy_has() -> None:
    # Each deploy-table key is a scripts.deploy flag of the same name (dashes for underscores).
    import dataclasses

    from tracking_templates.deploy_settings import DeploySettings

    flags = set(vars(deploy.build_parser().parse_args([])))
    assert {f.name for f in dataclasses.fields(DeploySettings)} <= flags
