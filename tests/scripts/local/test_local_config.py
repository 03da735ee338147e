"""scripts.local --config: the environment's settings from the file, its mistakes as exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.local import command as local
from tracking_templates.names import Resources

from ..deploy_support import client


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[environments.dev.api_function]\nmemroy_mb = 1024", "environments.dev.api_function.memroy_mb: unknown setting (did you mean memory_mb?)"),
        ("[environments.dev]\nlisting_shards = '4'", 'environments.dev.listing_shards: expected an integer, got a string ("4")'),
        ("[environments.dev]\nlisting_shards = 1", "environments.dev.listing_shards: listing_shards not in 2..255"),
    ],
)
def test_a_mistake_in_the_file_is_exit_2_before_anything_starts(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(SystemExit) as exited:
        local.main(["--config", str(path), "--port", "0"])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert err == f"python -m scripts.local: error: {path}: {message}\n"


def test_a_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        local.main(["--config", str(tmp_path / "nope.toml")])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"python -m scripts.local: error: {tmp_path / 'nope.toml'}: cannot read: No such file or directory\n")


def test_the_deploy_table_does_not_move_the_local_stack(tmp_path: Path) -> None:
    # The file's deploy table (region, stack, bucket, endpoint) is for AWS; locally the flags' defaults hold.
    path = _config(tmp_path, '[environments.dev.deploy]\nregion = "eu-west-1"\nstack_name = "elsewhere"\n')
    args = local.build_parser().parse_args(["--config", str(path)])
    assert (args.region, args.config) == ("us-east-1", path)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_the_local_stack_is_deployed_with_the_files_settings(moto_endpoint: str, tmp_path: Path) -> None:
    # GIVEN a file changing dev's API function and naming a deploy bucket that exists nowhere
    path = _config(tmp_path, """\
[environments.dev.api_function]
memory_mb = 1024
[environments.dev.deploy]
stack_name = "elsewhere"
bucket = "no-such-bucket"
""")
    workdir = tmp_path / "work"
    workdir.mkdir()
    # WHEN scripts.local deploys into the emulator with it
    stack_name, template = local._deploy("dev", "us-east-1", moto_endpoint, workdir, path)
    # THEN the template has the file's settings, and the stack is local's own, in its own bucket
    assert template["Resources"][Resources.API_FUNCTION]["Properties"]["MemorySize"] == 1024
    assert stack_name == "tracking-dev"
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName="tracking-dev")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["CodeBucket"] != "no-such-bucket"
