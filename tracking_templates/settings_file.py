"""The settings file (`tracking.toml`): per-environment overrides of the built-in profiles.

```toml
[environments.prod]
listing_shards = 32
[environments.prod.api_function]
memory_mb = 1024
[environments.prod.deploy]
stack_name = "tracking-prod"
```

The file's shape is read off the settings dataclasses themselves (their fields and type hints),
so a setting added to `settings.py` is settable here without touching this module. Every value
goes through the dataclasses' own validation; an unknown key, a wrong type or an invalid value
is a `SettingsFileError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from .config_flag import DEFAULT_SETTINGS_FILE, add_config_argument, find  # noqa: F401 (one import for callers)
from .deploy_settings import DeploySettings
from .names import ENV_PATTERN, is_valid_env
from .settings import Settings, SettingsError, settings_for

ENVIRONMENTS = "environments"
DEPLOY = "deploy"
# Chosen by the table's name, never written in it.
NOT_SETTABLE = {
    "env": "not settable: the environment is the table's name",
    "profile": "not settable: an environment starts from its own built-in profile, or dev's",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class SettingsFileError(SettingsError):
    """A settings file that cannot be used: one line, `FILE: KEY: why`."""

    def __init__(self, path: Path | str, key: str, why: str) -> None:
        super().__init__(f"{path}: {key}: {why}" if key else f"{path}: {why}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentConfig:
    """One environment as the file leaves it: its settings and the deploy's defaults."""

    settings: Settings
    deploy: DeploySettings


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsFile:
    """A loaded settings file: every environment it names, validated."""

    path: Path | None
    environments: Mapping[str, EnvironmentConfig]

    def settings_for(self, env: str) -> Settings:
        """ENV's settings: its built-in profile (or dev's), then this file's table for it."""
        found = self.environments.get(env)
        return found.settings if found is not None else settings_for(env)

    def deploy_for(self, env: str) -> DeploySettings:
        """ENV's deploy defaults from this file (all unset when it has none)."""
        found = self.environments.get(env)
        return found.deploy if found is not None else DeploySettings()

    def deploy_key(self, env: str, key: str) -> str:
        """Where ENV's deploy default KEY is written, as errors name it: `FILE: environments.ENV.deploy.KEY`."""
        return f"{self.path}: {_key_path((ENVIRONMENTS, env, DEPLOY, key))}"


NO_FILE = SettingsFile(path=None, environments={})


def load(path: Path | None) -> SettingsFile:
    """Read and validate PATH (None: no file, the built-in profiles only)."""
    if path is None:
        return NO_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsFileError(path, "", f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsFileError(path, "", "not UTF-8 text (TOML files are UTF-8)") from None
    return loads(text, path)


def loads(text: str, path: Path | str = DEFAULT_SETTINGS_FILE) -> SettingsFile:
    """Parse and validate settings-file TEXT; errors name PATH."""
    import tomllib  # only when there is a file: `python -m tracking_templates` without one stays lean

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsFileError(path, "", f"invalid TOML: {error}") from None
    for key in document:
        if key != ENVIRONMENTS:
            raise SettingsFileError(path, _key_path((key,)), f"unknown key (the file holds [{ENVIRONMENTS}.NAME] tables)")
    tables = document.get(ENVIRONMENTS, {})
    _expect(dict, tables, path, (ENVIRONMENTS,))
    environments = {}
    for env, table in tables.items():
        where = (ENVIRONMENTS, env)
        if not is_valid_env(env):
            raise SettingsFileError(path, _key_path(where), f"invalid environment name: must match {ENV_PATTERN}")
        _expect(dict, table, path, where)
        environments[env] = _environment(env, table, Path(path), where)
    return SettingsFile(path=Path(path), environments=environments)


def _environment(env: str, table: dict[str, Any], path: Path, where: tuple[str, ...]) -> EnvironmentConfig:
    own = dict(table)
    deploy_table = own.pop(DEPLOY, {})
    for key, why in NOT_SETTABLE.items():
        if key in own:
            raise SettingsFileError(path, _key_path((*where, key)), why)
    settings = overlay(settings_for(env), own, path, where, extra=(DEPLOY,))
    deploy = overlay(DeploySettings(), _expect(dict, deploy_table, path, (*where, DEPLOY)), path, (*where, DEPLOY))
    return EnvironmentConfig(settings=settings, deploy=deploy)


# ---- reading a table onto a dataclass -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """A nested table's checked values, to be applied onto the field's current value."""

    cls: type
    values: dict[str, Any]


@cache
def _hints(cls: type) -> dict[str, Any]:
    """CLS's settable fields and their resolved types (the modules use postponed annotations)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init and f.name not in NOT_SETTABLE}


def overlay(base: Any, table: dict[str, Any], path: Path | str, where: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> Any:
    """The frozen dataclass BASE with TABLE's values (nested tables for nested dataclasses), through
    the dataclasses' own validation; errors name PATH and the key at fault under WHERE.

    EXTRA: keys of TABLE that belong to someone else (skipped here, offered in "did you mean").
    """
    checked = _check_table(type(base), table, path, where, extra)
    try:
        return _build(base, checked)
    except SettingsError as whole:
        # Which key is at fault: the first one that is invalid on its own; if none is, the
        # combination is (a cross-field rule), and the table is named.
        for key_path, value in _leaves(base, checked):
            try:
                _build(base, _only(checked, key_path))
            except SettingsError as alone:
                raise SettingsFileError(path, _key_path((*where, *key_path)), str(alone)) from None
        raise SettingsFileError(path, _key_path(where), f"{whole} (from these values together)") from None


def _check_table(cls: type, table: dict[str, Any], path: Path, where: tuple[str, ...], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    hints = _hints(cls)
    checked: dict[str, Any] = {}
    for key, raw in table.items():
        key_where = (*where, key)
        if key in extra:
            continue
        if key not in hints:
            raise SettingsFileError(path, _key_path(key_where), _unknown(key, [*hints, *extra]))
        checked[key] = _value(hints[key], raw, path, key_where)
    return checked


def _value(hint: Any, raw: Any, path: Path, where: tuple[str | int, ...]) -> Any:
    """RAW (as tomllib read it) checked against the type HINT; arrays become tuples, nested tables `_Table`s."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        # TOML has no null: `X | None` is X when written; None only as a default.
        options = [arg for arg in args if arg is not type(None)]
        if len(options) == 1:
            return _value(options[0], raw, path, where)
    if dataclasses.is_dataclass(hint):
        return _Table(hint, _check_table(hint, _expect(dict, raw, path, where), path, where))
    if hint is bool:
        return _expect(bool, raw, path, where)
    if hint is int:
        return _expect(int, raw, path, where)
    if hint is float:
        # An integer is a number too (PEP 484's numeric tower); kept as written, so 2000 stays 2000.
        return _expect((int, float), raw, path, where)
    if hint is str:
        return _expect(str, raw, path, where)
    if origin is typing.Literal:
        if not any(raw == arg and type(raw) is type(arg) for arg in args):
            raise SettingsFileError(path, _key_path(where), f"must be one of {', '.join(map(_toml, args))}")
        return raw
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError:
            raise SettingsFileError(path, _key_path(where), f"must be one of {', '.join(_toml(m.value) for m in hint)}") from None
    if origin is tuple:
        items = _expect(list, raw, path, where)
        if len(args) == 2 and args[1] is Ellipsis:
            item_hints = [args[0]] * len(items)
        elif len(items) != len(args):
            raise SettingsFileError(path, _key_path(where), f"expected an array of {len(args)} items, got {len(items)}")
        else:
            item_hints = list(args)
        return tuple(_value(h, item, path, (*where, i)) for i, (h, item) in enumerate(zip(item_hints, items)))
    if origin is dict and args[0] is str:
        return {key: _value(args[1], item, path, (*where, key)) for key, item in _expect(dict, raw, path, where).items()}
    raise TypeError(f"the settings file cannot hold a setting of type {hint!r} ({_key_path(where)})")


_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
               (list, "an array"), (dict, "a table"))


def _type_name(value: Any) -> str:
    for python_type, name in _TOML_TYPES:
        if isinstance(value, python_type):
            return name
    return "a date or time"


def _expect(expected: type | tuple[type, ...], raw: Any, path: Path | str, where: tuple[str | int, ...]) -> Any:
    # bool is an int to Python, never to the file (`memory_mb = true` is a mistake).
    wanted = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(raw, bool) and bool not in wanted or not isinstance(raw, wanted):
        names = " or ".join(name for python_type, name in _TOML_TYPES if python_type in wanted)
        raise SettingsFileError(path, _key_path(where), f"expected {names}, got {_type_name(raw)} ({_toml(raw)})")
    return raw


def _unknown(key: str, known: list[str]) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(known))}"
    return f"unknown setting ({hint})"


def _build(base: Any, checked: dict[str, Any]) -> Any:
    values = {}
    for key, value in checked.items():
        if isinstance(value, _Table):
            current = getattr(base, key)
            if current is None:
                # A nested setting whose default is None is made whole from the table alone.
                missing = [f.name for f in dataclasses.fields(value.cls) if f.init and f.name not in value.values
                           and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
                if missing:
                    raise SettingsError(f"{key} needs {', '.join(missing)} as well")
                values[key] = value.cls(**_plain(value))
            else:
                values[key] = _build(current, value.values)
        else:
            values[key] = value
    return replace(base, **values)


def _plain(table: _Table) -> dict[str, Any]:
    return {key: value.cls(**_plain(value)) if isinstance(value, _Table) else value for key, value in table.values.items()}


def _leaves(base: Any, checked: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in checked.items():
        if isinstance(value, _Table) and getattr(base, key) is not None:
            yield from _leaves(getattr(base, key), value.values, (*prefix, key))
        else:
            yield (*prefix, key), value


def _only(checked: dict[str, Any], key_path: tuple[str, ...]) -> dict[str, Any]:
    """CHECKED reduced to the one value at KEY_PATH."""
    head, *rest = key_path
    value = checked[head]
    if rest:
        return {head: _Table(value.cls, _only(value.values, tuple(rest)))}
    return {head: value}


# ---- writing --------------------------------------------------------------------------------


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _key_path(keys: tuple[str | int, ...]) -> str:
    """Keys as the file spells them; an int is an array index (`notify_statuses[1]`)."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else f"{'.' if text else ''}{_key(key)}"
    return text


def _string(text: str) -> str:
    # JSON's escapes are TOML basic-string escapes; TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml(value: Any) -> str:
    """VALUE as a TOML value (scalars and arrays of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _toml(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # repr: shortest exact; 'inf' as TOML spells it
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return repr(value)  # only in messages: a date or time as read


def _table_lines(value: Any, where: tuple[str, ...]) -> list[str]:
    """`[where]` then VALUE's scalar fields, then its nested tables (dataclasses and dicts)."""
    if dataclasses.is_dataclass(value):
        items = [(name, getattr(value, name)) for name in _hints(type(value))]
    else:
        items = list(value.items())
    lines = [f"[{_key_path(where)}]"]
    nested = []
    for name, item in items:
        if item is None:
            continue  # unset (TOML has no null): the default applies
        if dataclasses.is_dataclass(item) or isinstance(item, dict):
            if item or dataclasses.is_dataclass(item):  # an empty table says nothing
                nested.append((name, item))
        else:
            lines.append(f"{_key(name)} = {_toml(item)}")
    for name, item in nested:
        lines += ["", *_table_lines(item, (*where, name))]
    return lines


def dumps(env: str, config: EnvironmentConfig) -> str:
    """ENV's resolved settings and deploy defaults as a settings file that loads back to the same."""
    where = (ENVIRONMENTS, env)
    lines = _table_lines(config.settings, where)
    lines += ["", *_table_lines(config.deploy, (*where, DEPLOY))]
    return "\n".join(lines) + "\n"


def resolve(settings_file: SettingsFile, env: str) -> EnvironmentConfig:
    """ENV's settings and deploy defaults as SETTINGS_FILE leaves them."""
    return EnvironmentConfig(settings=settings_file.settings_for(env), deploy=settings_file.deploy_for(env))
