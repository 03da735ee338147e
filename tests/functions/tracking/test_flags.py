"""tracking_api.flags: read through a 5-minute cache; a missing parameter degrades to all-off."""

from __future__ import annotations

import json

import pytest
from tracking_api import aws, flags

from .conftest import parse_logs


@pytest.fixture
def ssm_calls(stack):
    calls: list[str] = []
    aws.client("ssm").meta.events.register("before-call.ssm", lambda model, **_: calls.append(model.name))
    return calls


def test_flags_come_from_the_templates_parameter(stack, ssm_calls):
    # GIVEN the template's flags parameter / WHEN read twice
    name = stack.env["FEATURE_FLAGS_PARAM"]
    first = flags.load(name)
    second = flags.load(name)
    # THEN its values, with one SSM call for both (the cache holds them for five minutes)
    assert first == second == json.loads(dict(_parameters())[name])
    assert ssm_calls == ["GetParameter"]


def _parameters():
    from .stack import definitions

    return definitions().parameters.items()


def test_the_cache_lasts_five_minutes(stack, ssm_calls, monkeypatch):
    # GIVEN the provider's max_age is what we ask for
    seen = []
    provider = aws.ssm_provider()
    original = provider.get
    monkeypatch.setattr(provider, "get", lambda name, **kw: seen.append(kw) or original(name, **kw))
    # WHEN flags are read / THEN with a 300 s max_age
    flags.load(stack.env["FEATURE_FLAGS_PARAM"])
    assert seen == [{"max_age": 300, "transform": "json"}]


def test_no_parameter_name_means_no_flags_and_no_call(stack, ssm_calls):
    assert flags.load(None) == {} and flags.load("") == {}
    assert ssm_calls == []


def test_missing_parameter_degrades_and_is_remembered(stack, ssm_calls, handler, log_lines):
    # GIVEN the flags parameter was deleted
    name = stack.env["FEATURE_FLAGS_PARAM"]
    stack.ssm.delete_parameter(Name=name)
    # WHEN flags are read twice
    assert flags.load(name) == {}
    assert flags.load(name) == {}
    # THEN every flag is off, one SSM call was made, and the failure was logged as an error
    assert ssm_calls == ["GetParameter"]
    (record,) = [r for r in parse_logs(log_lines) if r["level"] == "ERROR"]
    assert record["parameter"] == name and "unavailable" in record["message"]


@pytest.mark.parametrize("value", ["not json", "[true]", '"on"'])
def test_malformed_parameter_degrades(stack, value):
    name = stack.env["FEATURE_FLAGS_PARAM"]
    stack.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    assert flags.load(name) == {}


def test_non_boolean_values_are_ignored(stack):
    name = stack.env["FEATURE_FLAGS_PARAM"]
    stack.ssm.put_parameter(Name=name, Value='{"a": true, "b": "yes", "c": 1}', Type="String", Overwrite=True)
    assert flags.load(name) == {"a": True}
