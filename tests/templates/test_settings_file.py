"""The settings file (`tracking.toml`): overrides per environment, strict checking, the round trip."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pytest

from tracking_templates import settings_file
from tracking_templates.cli import main, render
from tracking_templates.deploy_settings import DeploySettings
from tracking_templates.names import Resources
from tracking_templates.settings import FunctionSettings, Settings, SettingsError, settings_for
from tracking_templates.settings_file import SettingsFileError, loads

REPO_ROOT = Path(__file__).resolve().parents[2]

# The example, and a deploy table with tags.
EXAMPLE = """\
[environments.prod]
listing_shards = 32
throttle_rate_limit = 2000
[environments.prod.api_function]
memory_mb = 1024
[environments.prod.deploy]
stack_name = "tracking-prod"
region = "eu-west-1"
[environments.prod.deploy.tags]
Team = "logistics"
"cost center" = "42"
"""


def test_the_file_overrides_only_what_it_names() -> None:
    # GIVEN the example file
    loaded = loads(EXAMPLE, "tracking.toml")
    prod = settings_for("prod")
    # THEN prod has the three values and keeps every other one of its profile
    assert loaded.settings_for("prod") == replace(
        prod, listing_shards=32, throttle_rate_limit=2000, api_function=replace(prod.api_function, memory_mb=1024)
    )
    assert loaded.deploy_for("prod") == DeploySettings(
        stack_name="tracking-prod", region="eu-west-1", tags={"Team": "logistics", "cost center": "42"}
    )
    # AND environments it does not name are the built-in profiles, with no deploy defaults
    assert loaded.settings_for("staging") == settings_for("staging")
    assert loaded.deploy_for("staging") == DeploySettings()


def test_an_environment_without_a_profile_starts_from_devs() -> None:
    loaded = loads("[environments.qa]\nlisting_shards = 8\n[environments.qa.alarms]\napi_latency_ms = 500\n")
    dev_as_qa = settings_for("qa")
    assert dev_as_qa == replace(settings_for("dev"), env="qa")
    assert loaded.settings_for("qa") == replace(
        dev_as_qa, listing_shards=8, alarms=replace(dev_as_qa.alarms, api_latency_ms=500)
    )


def test_values_keep_their_types() -> None:
    # GIVEN an integer for a float setting, and an array for a tuple one
    loaded = loads('[environments.dev]\nthrottle_rate_limit = 25\nnotify_statuses = ["failed"]\n'
                   "[environments.staging]\nthrottle_rate_limit = 12.5\n")
    dev, staging = loaded.settings_for("dev"), loaded.settings_for("staging")
    # THEN the integer stays an integer (the template says 25, not 25.0), the array is a tuple
    assert type(dev.throttle_rate_limit) is int and dev.throttle_rate_limit == 25
    assert staging.throttle_rate_limit == 12.5
    assert dev.notify_statuses == ("failed",)
    assert hash(dev) == hash(replace(settings_for("dev"), throttle_rate_limit=25, notify_statuses=("failed",)))


def test_an_empty_or_absent_file_is_the_built_in_profiles() -> None:
    assert loads("").environments == {}
    assert settings_file.load(None) is settings_file.NO_FILE
    assert settings_file.NO_FILE.settings_for("prod") == settings_for("prod")


F = "tracking.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # unknown keys, with a suggestion when one is close
        ("[environments.prod.api_function]\nmemroy_mb = 1024",
         f"{F}: environments.prod.api_function.memroy_mb: unknown setting (did you mean memory_mb?)"),
        ("[environments.prod]\nshards = 32", f"{F}: environments.prod.shards: unknown setting (did you mean listing_shards?)"),
        ("[environments.dev.deploy]\nstack = 'x'", f"{F}: environments.dev.deploy.stack: unknown setting (did you mean stack_name?)"),
        ("[environments.dev]\nzzz = 1", f"{F}: environments.dev.zzz: unknown setting (known: "
         + ", ".join(sorted([f.name for f in dataclasses.fields(Settings) if f.name not in ("env", "profile")] + ["deploy"]))
         + ")"),
        ("[envs.prod]\nlisting_shards = 32", f"{F}: envs: unknown key (the file holds [environments.NAME] tables)"),
        # not settable
        ("[environments.prod]\nprofile = 'dev'",
         f"{F}: environments.prod.profile: not settable: an environment starts from its own built-in profile, or dev's"),
        ("[environments.prod]\nenv = 'dev'", f"{F}: environments.prod.env: not settable: the environment is the table's name"),
        # wrong types: bool is not an int, a float not an int, a string not a number
        ("[environments.prod]\nlisting_shards = true", f"{F}: environments.prod.listing_shards: expected an integer, got a boolean (true)"),
        ("[environments.prod]\nlisting_shards = 32.0", f"{F}: environments.prod.listing_shards: expected an integer, got a float (32.0)"),
        ("[environments.prod]\nthrottle_rate_limit = '2000'",
         f'{F}: environments.prod.throttle_rate_limit: expected an integer or a float, got a string ("2000")'),
        ("[environments.prod]\nretain_logs = 1", f"{F}: environments.prod.retain_logs: expected a boolean, got an integer (1)"),
        ("[environments.prod]\napi_function = 1024", f"{F}: environments.prod.api_function: expected a table, got an integer (1024)"),
        ("[environments.dev]\nnotify_statuses = 'failed'",
         f'{F}: environments.dev.notify_statuses: expected an array, got a string ("failed")'),
        ("[environments.dev]\nnotify_statuses = ['failed', 7]",
         f"{F}: environments.dev.notify_statuses[1]: expected a string, got an integer (7)"),
        ("[environments.dev.deploy]\ntags = {Team = 1}", f"{F}: environments.dev.deploy.tags.Team: expected a string, got an integer (1)"),
        ("[environments.dev]\nlog_retention_days = 1979-05-27",
         f"{F}: environments.dev.log_retention_days: expected an integer, got a date or time (datetime.date(1979, 5, 27))"),
        ("environments = 3", f"{F}: environments: expected a table, got an integer (3)"),
        # invalid values: the dataclasses' own checks, naming the key at fault
        ("[environments.prod.api_function]\nmemory_mb = 64", f"{F}: environments.prod.api_function.memory_mb: memory_mb 64 not in 128..10240"),
        ("[environments.prod.api_function]\ntimeout_s = 31",
         f"{F}: environments.prod.api_function.timeout_s: the API function's timeout must be at most 30 s"),
        ("[environments.prod]\nlisting_shards = 15",
         f"{F}: environments.prod.listing_shards: prod needs listing_shards >= 16 (about 1,000 writes/s per shard and status)"),
        ("[environments.prod]\nlisting_shards = 32\nlog_retention_days = 8",
         f"{F}: environments.prod.log_retention_days: log_retention_days 8 is not a value CloudWatch Logs accepts"),
        ("[environments.dev]\nthrottle_rate_limit = nan", f"{F}: environments.dev.throttle_rate_limit: throttle_rate_limit not in (0, 10000]"),
        ("[environments.dev]\nnotify_statuses = []", f"{F}: environments.dev.notify_statuses: notify_statuses must not be empty"),
        ("[environments.dev.stream]\nmax_retry_attempts = -1",
         f"{F}: environments.dev.stream.max_retry_attempts: stream max_retry_attempts not in 0..10000"),
        ("[environments.dev.deploy]\nstack_name = ''", f"{F}: environments.dev.deploy.stack_name: stack_name must not be empty"),
        ("[environments.dev.deploy.tags]\n' ' = 'x'", f"{F}: environments.dev.deploy.tags: tags has an empty key"),
        # environment names and TOML itself
        ("[environments.Prod]\nlisting_shards = 32",
         f"{F}: environments.Prod: invalid environment name: must match ^[a-z][a-z0-9-]{{0,19}}$"),
        ('[environments."dev.x"]\n', f'{F}: environments."dev.x": invalid environment name: must match ^[a-z][a-z0-9-]{{0,19}}$'),
        ("[environments.prod\n", f"{F}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 19)"),
    ],
)
def test_every_mistake_is_one_line_naming_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(SettingsFileError) as error:
        loads(text, F)
    assert str(error.value) == message
    assert "\n" not in str(error.value)


def test_a_mistake_in_another_environment_is_still_an_error() -> None:
    # A typo is never silently ignored, whichever environment is asked for.
    with pytest.raises(SettingsFileError, match=r"environments\.prod\.api_function\.memroy_mb"):
        loads("[environments.dev]\nlisting_shards = 4\n[environments.prod.api_function]\nmemroy_mb = 1\n")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsFileError) as error:
        settings_file.load(missing)
    assert str(error.value) == f"{missing}: cannot read: No such file or directory"
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b"# caf\xe9\n")
    with pytest.raises(SettingsFileError, match=r"latin1\.toml: not UTF-8 text \(TOML files are UTF-8\)$"):
        settings_file.load(latin1)


def test_find_takes_the_flag_else_tracking_toml_in_the_folder(tmp_path: Path) -> None:
    assert settings_file.find(None, tmp_path) is None
    (tmp_path / "tracking.toml").write_text("", encoding="utf-8")
    assert settings_file.find(None, tmp_path) == tmp_path / "tracking.toml"
    assert settings_file.find(Path("other.toml"), tmp_path) == Path("other.toml")


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "feature-7"])
@pytest.mark.parametrize("text", ["", EXAMPLE.replace("prod", "ENV")])
def test_printed_settings_load_back_identically(env: str, text: str) -> None:
    # GIVEN an environment resolved from its profile (and the example's overrides)
    text = text.replace("ENV", env).replace("listing_shards = 32", "listing_shards = 32" if env == "prod" else "listing_shards = 3")
    config = settings_file.resolve(loads(text), env)
    # WHEN it is printed and the print read back as a settings file
    printed = settings_file.dumps(env, config)
    again = settings_file.resolve(loads(printed), env)
    # THEN nothing changed, and printing again gives the same text
    assert again == config
    assert settings_file.dumps(env, again) == printed


def test_printed_settings_name_every_setting() -> None:
    printed = settings_file.dumps("prod", settings_file.resolve(loads(EXAMPLE), "prod"))
    assert printed.startswith("[environments.prod]\nlog_retention_days = 365\nretain_logs = true\n")
    assert "\n[environments.prod.api_function]\nmemory_mb = 1024\ntimeout_s = 30\nreserved_concurrency = 100\n" in printed
    assert '\n[environments.prod.deploy]\nstack_name = "tracking-prod"\nregion = "eu-west-1"\n' in printed
    assert '\n[environments.prod.deploy.tags]\nTeam = "logistics"\n"cost center" = "42"\n' in printed
    assert "throttle_rate_limit = 2000\n" in printed and 'notify_statuses = ["delivered", "failed"]\n' in printed


def test_strings_that_need_escapes_round_trip() -> None:
    # GIVEN tag values with quotes, backslashes, control characters, DEL and non-ASCII
    tags = {"q": 'say "hi"', "b": "C:\\dir", "c": "tab\tnl\n", "d": "\x7f", "u": "Zürich 🚚", "a.b": "dotted key"}
    config = settings_file.EnvironmentConfig(settings=settings_for("dev"), deploy=DeploySettings(tags=tags))
    # THEN they print as TOML that reads back to the same strings
    assert settings_file.resolve(loads(settings_file.dumps("dev", config)), "dev").deploy.tags == tags


# A settings group like the ones other changes add (issue 18's ReleaseSettings): the loader must
# read it from the dataclass alone.
@dataclass(frozen=True, slots=True, kw_only=True)
class _Shift:
    kind: Literal["canary", "linear", "all_at_once"] = "all_at_once"
    percent: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.percent <= 100:
            raise SettingsError(f"percent {self.percent} not in 1..100")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Release:
    keep_versions: int = 3
    snap_start: bool = False
    shift: _Shift = _Shift()
    window: tuple[int, int] = (0, 24)
    hook: _Shift | None = None


def test_the_loader_reads_any_settings_dataclass() -> None:
    table = {"keep_versions": 5, "shift": {"kind": "canary", "percent": 20}, "window": [2, 4], "hook": {"percent": 50}}
    assert settings_file.overlay(_Release(), table, F, ("release",)) == _Release(
        keep_versions=5, shift=_Shift(kind="canary", percent=20), window=(2, 4), hook=_Shift(percent=50)
    )
    for bad, message in [
        ({"shift": {"kind": "blue"}}, "release.shift.kind: must be one of \"canary\", \"linear\", \"all_at_once\""),
        ({"shift": {"percent": 0}}, "release.shift.percent: percent 0 not in 1..100"),
        ({"window": [1]}, "release.window: expected an array of 2 items, got 1"),
        ({"snap_start": "yes"}, 'release.snap_start: expected a boolean, got a string ("yes")'),
        ({"hook": {"percent": 0}}, "release.hook: percent 0 not in 1..100"),
    ]:
        with pytest.raises(SettingsFileError) as error:
            settings_file.overlay(_Release(), bad, F, ("release",))
        assert str(error.value) == f"{F}: {message}"


def _leaf_fields(cls: type, prefix: tuple[str, ...] = ()):
    for item in dataclasses.fields(cls):
        if item.name in settings_file.NOT_SETTABLE:
            continue
        hint = settings_file._hints(cls)[item.name]
        if dataclasses.is_dataclass(hint):
            yield from _leaf_fields(hint, (*prefix, item.name))
        else:
            yield (*prefix, item.name)


def _at(value, leaf: tuple[str, ...]):
    for key in leaf:
        value = value.get(key) if isinstance(value, dict) else getattr(value, key)
    return value


def _nested(leaf: tuple[str, ...], value) -> dict:
    table = {leaf[-1]: value}
    for key in reversed(leaf[:-1]):
        table = {key: table}
    return table


def test_every_setting_is_settable_from_the_file() -> None:
    # GIVEN every leaf setting of Settings (whatever other changes added), as printed for prod
    config = settings_file.resolve(loads(EXAMPLE), "prod")
    printed = tomllib.loads(settings_file.dumps("prod", config))["environments"]["prod"]
    leaves = list(_leaf_fields(Settings))
    assert len(leaves) >= 30
    for leaf in leaves:
        raw = _at(printed, leaf)
        if raw is None:
            continue  # unset by default (TOML has no null)
        # WHEN a file sets that one value (its type must be one the file can hold: else TypeError)
        result = settings_file.overlay(settings_for("prod"), _nested(leaf, raw), F, ("environments", "prod"))
        # THEN it is read to the same value
        assert _at(result, leaf) == _at(config.settings, leaf), leaf


# ---- the command line -----------------------------------------------------------------------


def test_config_changes_the_template(tmp_path: Path, capsys) -> None:
    # GIVEN a settings file for prod
    config = tmp_path / "settings.toml"
    config.write_text(EXAMPLE, encoding="utf-8")
    # WHEN the template is written with it
    assert main(["--env", "prod", "--config", str(config)]) == 0
    template = json.loads(capsys.readouterr().out)
    # THEN it carries the file's values
    assert template["Resources"][Resources.API_FUNCTION]["Properties"]["MemorySize"] == 1024
    (method_setting,) = template["Resources"][Resources.STAGE]["Properties"]["MethodSettings"]
    assert method_setting["ThrottlingRateLimit"] == 2000
    assert template == json.loads(render("prod", settings=loads(EXAMPLE).settings_for("prod")))


def test_print_settings_writes_a_settings_file(tmp_path: Path, capsys) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(EXAMPLE, encoding="utf-8")
    assert main(["--env", "prod", "--config", str(config), "--print-settings"]) == 0
    printed = capsys.readouterr().out
    assert printed == settings_file.dumps("prod", settings_file.resolve(loads(EXAMPLE), "prod"))
    # -o writes it to a file that is itself a settings file giving the same template
    assert main(["--env", "prod", "--config", str(config), "--print-settings", "-o", str(tmp_path / "out.toml")]) == 0
    assert main(["--env", "prod", "--config", str(tmp_path / "out.toml")]) == 0
    assert main(["--env", "prod", "--config", str(config)]) == 0
    from_print, from_example = capsys.readouterr().out.split("}\n{", 1)
    assert json.loads(from_print + "}") == json.loads("{" + from_example)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracking_templates", *args], capture_output=True, text=True,
                          cwd=cwd, check=False, timeout=120, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.slow
def test_tracking_toml_in_the_current_folder_is_read_and_flags_name_others(tmp_path: Path) -> None:
    # GIVEN tracking.toml in the current folder
    (tmp_path / "tracking.toml").write_text("[environments.dev.api_function]\nmemory_mb = 768\n", encoding="utf-8")
    (tmp_path / "other.toml").write_text("[environments.dev.api_function]\nmemory_mb = 1536\n", encoding="utf-8")
    # THEN it is used by default, and --config names another
    found = _run(tmp_path, "--print-settings")
    assert found.returncode == 0 and "\nmemory_mb = 768\n" in found.stdout
    other = _run(tmp_path, "--print-settings", "--config", "other.toml")
    assert other.returncode == 0 and "\nmemory_mb = 1536\n" in other.stdout
    # AND a mistake in it is exit 2, one line naming the file and the key, nothing on stdout
    (tmp_path / "tracking.toml").write_text("[environments.dev.api_function]\nmemory_mb = true\n", encoding="utf-8")
    bad = _run(tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == ("python -m tracking_templates: error: tracking.toml: environments.dev.api_function.memory_mb: "
                          "expected an integer, got a boolean (true)\n")


def test_a_missing_config_file_is_exit_2(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(tmp_path / "nope.toml")])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"python -m tracking_templates: error: {tmp_path / 'nope.toml'}: cannot read: No such file or directory\n"


def test_function_settings_from_the_file_are_validated_like_code() -> None:
    # The same rule, written once: the file's error text is the dataclass's own.
    with pytest.raises(SettingsError) as from_code:
        FunctionSettings(memory_mb=64, timeout_s=3, reserved_concurrency=1)
    with pytest.raises(SettingsFileError) as from_file:
        loads("[environments.dev.api_function]\nmemory_mb = 64\n")
    assert str(from_file.value).endswith(": " + str(from_code.value))


def test_the_documented_example_loads_and_shows_every_key() -> None:
    # GIVEN the example in docs/templates.md
    import re

    docs = (REPO_ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n(.*?)```", docs, re.S)
    # WHEN it is loaded
    loaded = loads(example, "docs/templates.md")
    # THEN it is valid, and it sets every setting (so the docs stay complete as settings are added)
    printed = settings_file.dumps("prod", settings_file.resolve(loaded, "prod"))
    assert loads(printed).settings_for("prod") == loaded.settings_for("prod")
    written = {line.split(" = ")[0] for line in example.splitlines() if " = " in line}
    written |= set(re.findall(r"^\[environments\.[a-z0-9.-]*\.([a-z_]+)\]", example, re.M))  # tables
    leaves = {leaf[-1] for leaf in list(_leaf_fields(Settings)) + list(_leaf_fields(DeploySettings))}
    assert leaves - written == set()
    assert loaded.settings_for("feature-7") == replace(settings_for("feature-7"), listing_shards=4)


def test_deploy_keys_are_named_as_the_file_spells_them() -> None:
    loaded = loads(EXAMPLE, "conf/tracking.toml")
    assert loaded.deploy_key("prod", "stack_name") == "conf/tracking.toml: environments.prod.deploy.stack_name"
    assert loaded.deploy_key("feature-7", "tags") == "conf/tracking.toml: environments.feature-7.deploy.tags"
