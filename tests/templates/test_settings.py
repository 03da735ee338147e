"""Per-environment settings: profiles, fallback to dev, validation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tracking_templates.settings import FunctionSettings, SettingsError, StreamSettings, settings_for


def test_profiles_differ_where_they_should() -> None:
    dev, staging, prod = (settings_for(e) for e in ("dev", "staging", "prod"))
    assert dev.log_retention_days < staging.log_retention_days < prod.log_retention_days
    assert dev.api_function.reserved_concurrency < prod.api_function.reserved_concurrency
    assert dev.throttle_rate_limit < prod.throttle_rate_limit
    assert prod.retain_logs and not dev.retain_logs
    assert dev.log_retention_days == 7


def test_other_valid_names_get_dev_settings_under_their_own_name() -> None:
    feature = settings_for("feature-x1")
    assert feature.env == "feature-x1"
    assert replace(feature, env="dev") == settings_for("dev")


@pytest.mark.parametrize("env", ["", "Dev", "1dev", "dev_1", "a" * 21, "dev\n", None])
def test_invalid_environment_names_are_refused(env) -> None:
    with pytest.raises(SettingsError, match="invalid environment"):
        settings_for(env)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        settings_for("dev").log_retention_days = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"log_retention_days": 8}, "CloudWatch Logs accepts"),
        ({"throttle_burst_limit": 0}, "throttle_burst_limit"),
        ({"notify_statuses": ("lost",)}, "unknown statuses"),
        ({"notify_statuses": ()}, "must not be empty"),
        ({"api_function": FunctionSettings(memory_mb=512, timeout_s=60, reserved_concurrency=1)}, "at most 30"),
    ],
)
def test_unsafe_or_invalid_settings_are_refused(change: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        replace(settings_for("dev"), **change)


def test_function_and_stream_bounds() -> None:
    with pytest.raises(SettingsError, match="memory_mb"):
        FunctionSettings(memory_mb=64, timeout_s=3, reserved_concurrency=1)
    with pytest.raises(SettingsError, match="log_level"):
        FunctionSettings(memory_mb=128, timeout_s=3, reserved_concurrency=1, log_level="LOUD")
    with pytest.raises(SettingsError, match="max_retry_attempts"):
        StreamSettings(max_retry_attempts=-1)


def test_records_are_values_built_by_keyword() -> None:
    # GIVEN two settings built from the same profile
    first, second = settings_for("staging"), settings_for("staging")
    # THEN they are equal and hash alike, and differ from another environment's
    assert first == second and hash(first) == hash(second)
    assert first != settings_for("prod")
    assert {first, second} == {first}
    assert repr(first.stream) == (
        "StreamSettings(batch_size=100, batching_window_s=1, max_retry_attempts=3, max_record_age_s=3600)"
    )
    # AND a missing, unknown or positional field is refused
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'reserved_concurrency'"):
        FunctionSettings(memory_mb=128, timeout_s=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'batch_sise'"):
        StreamSettings(batch_sise=10)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        StreamSettings(10)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del first.env


def test_listing_shards_per_environment() -> None:
    # GIVEN each profile's shard count
    shards = {env: settings_for(env).listing_shards for env in ("dev", "staging", "prod")}
    # THEN prod spreads each status over 16 keys (~16,000 writes/s), dev over 2 (the fan-out is exercised)
    assert shards == {"dev": 2, "staging": 4, "prod": 16}
    assert settings_for("feature-x1").listing_shards == 2


@pytest.mark.parametrize(
    ("env", "shards", "message"),
    [
        ("dev", 1, r"listing_shards not in 2\.\.255"),
        ("dev", 256, r"listing_shards not in 2\.\.255"),
        ("prod", 15, "prod needs listing_shards >= 16"),
    ],
)
def test_listing_shards_bounds(env: str, shards: int, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        replace(settings_for(env), listing_shards=shards)
    # the edges themselves are accepted
    assert replace(settings_for("dev"), listing_shards=2).listing_shards == 2
    assert replace(settings_for("dev"), listing_shards=255).listing_shards == 255
    assert replace(settings_for("prod"), listing_shards=16).listing_shards == 16
