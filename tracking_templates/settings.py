"""Per-environment settings: build-time Python data, validated once, here.

Only what must vary per deployment of one template (the environment name, the code location
and the notification address) are CloudFormation Parameters; everything else is chosen here
by environment profile when the template is generated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .names import ENV_PATTERN, is_valid_env

# The values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS = frozenset(
    (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653)
)
LOG_LEVELS = frozenset(("DEBUG", "INFO", "WARNING", "ERROR"))
TRACKING_STATUSES = ("pending", "in_transit", "delivered", "failed")
MAX_LISTING_SHARDS = 255
MIN_PROD_LISTING_SHARDS = 16


class SettingsError(ValueError):
    """Settings that would make an invalid or unsafe stack."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SettingsError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSettings:
    """Sizing and logging of one Lambda function."""

    memory_mb: int
    timeout_s: int
    reserved_concurrency: int
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        _check(128 <= self.memory_mb <= 10240, f"memory_mb {self.memory_mb} not in 128..10240")
        _check(1 <= self.timeout_s <= 900, f"timeout_s {self.timeout_s} not in 1..900")
        _check(self.reserved_concurrency >= 1, "reserved_concurrency must be at least 1")
        _check(self.log_level in LOG_LEVELS, f"log_level {self.log_level!r} not in {sorted(LOG_LEVELS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmSettings:
    """Alarm thresholds (the original design's four, then ours)."""

    api_4xx_errors: int = 10  # Sum over 2 x 300 s
    api_5xx_errors: int = 5  # Sum over 1 x 60 s
    api_latency_ms: int = 1000  # Average over 2 x 300 s
    lambda_throttles: int = 10  # Sum over 1 x 300 s
    lambda_errors: int = 5  # Sum over 1 x 300 s, per function
    dlq_messages: int = 0  # Maximum visible messages over 1 x 300 s: any message is news
    iterator_age_ms: int = 60_000  # Maximum over 1 x 300 s: the notifier falls behind
    table_write_throttles: int = 0  # Sum over 1 x 300 s, per table and index: any throttled write is news
    # Sum over 1 x 60 s of a released version's errors: above it, CodeDeploy rolls the release back.
    new_version_errors: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            _check(getattr(self, field.name) >= 0, f"alarm threshold {field.name} must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSettings:
    """How the notifier consumes the table's stream."""

    batch_size: int = 100
    batching_window_s: int = 1
    max_retry_attempts: int = 3
    max_record_age_s: int = 3600

    def __post_init__(self) -> None:
        _check(1 <= self.batch_size <= 10000, "stream batch_size not in 1..10000")
        _check(0 <= self.batching_window_s <= 300, "stream batching_window_s not in 0..300")
        # Bounded retries: AWS allows -1 (forever) and 0..10000; forever would block the shard.
        _check(0 <= self.max_retry_attempts <= 10000, "stream max_retry_attempts not in 0..10000")
        _check(60 <= self.max_record_age_s <= 604800, "stream max_record_age_s not in 60..604800")


# CodeDeploy's predefined configurations for Lambda (a custom one would need its own resource).
LAMBDA_DEPLOYMENT_CONFIGS = frozenset(
    ("CodeDeployDefault.LambdaAllAtOnce",
     *(f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes" for m in (5, 10, 15, 30)),
     *(f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}" for m in (1, 2, 3, 10)))
)
MIN_KEEP_VERSIONS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseSettings:
    """How a new version reaches traffic: CodeDeploy's shift, SnapStart, versions kept."""

    # How CodeDeploy moves the `live` alias to a new version (rolled back on failure or alarm).
    deployment_config: str = "CodeDeployDefault.LambdaAllAtOnce"
    # SnapStart on published versions (python3.12+; no provisioned concurrency, EFS, or >512 MB /tmp).
    snapstart: bool = False
    # Published versions the deploy keeps per function (the previous release stays for a rollback).
    keep_versions: int = 3

    def __post_init__(self) -> None:
        _check(
            self.deployment_config in LAMBDA_DEPLOYMENT_CONFIGS,
            f"release deployment_config {self.deployment_config!r} is not one of CodeDeploy's Lambda "
            f"configurations {sorted(LAMBDA_DEPLOYMENT_CONFIGS)}",
        )
        _check(isinstance(self.snapstart, bool), "release snapstart must be true or false")
        _check(
            isinstance(self.keep_versions, int) and not isinstance(self.keep_versions, bool)
            and self.keep_versions >= MIN_KEEP_VERSIONS,
            f"release keep_versions must be an integer >= {MIN_KEEP_VERSIONS} (the previous release stays)",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything that differs between environments, for one environment."""

    env: str
    profile: str
    log_retention_days: int
    # Log groups of production are kept when the stack goes; dev's go with it.
    retain_logs: bool
    # Also refuse manual deletes of the table (Retain already covers stack deletes).
    table_deletion_protection: bool
    api_function: FunctionSettings
    notifier_function: FunctionSettings
    throttle_rate_limit: float
    throttle_burst_limit: int
    # API Gateway writes access logs only once the account names a CloudWatch role; the stack
    # sets one (retained, so another stack's use of it survives this one's deletion). Turn
    # off where the account's API Gateway settings are managed elsewhere.
    manage_api_gateway_account: bool = True
    alarms: AlarmSettings = AlarmSettings()
    stream: StreamSettings = StreamSettings()
    notify_statuses: tuple[str, ...] = ("delivered", "failed")
    # Deploy-time protection (scripts.deploy): termination protection on the stack, and how
    # long CloudFormation keeps watching the rollback-trigger alarms after an update (0..180).
    termination_protection: bool = False
    rollback_monitoring_minutes: int = 0
    # Partition keys per status in the listing index: a status takes about this many times
    # 1,000 writes/s, and a listing page costs this many queries (see docs/scale.md).
    listing_shards: int = 2
    release: ReleaseSettings = ReleaseSettings()

    def __post_init__(self) -> None:
        _check(is_valid_env(self.env), f"invalid environment {self.env!r}: must match {ENV_PATTERN}")
        _check(self.profile in PROFILES_NAMES, f"unknown profile {self.profile!r}")
        _check(
            self.log_retention_days in LOG_RETENTION_DAYS,
            f"log_retention_days {self.log_retention_days} is not a value CloudWatch Logs accepts",
        )
        _check(0 < self.throttle_rate_limit <= 10000, "throttle_rate_limit not in (0, 10000]")
        _check(0 < self.throttle_burst_limit <= 5000, "throttle_burst_limit not in 1..5000")
        # At least 2 everywhere, so every environment exercises the fan-out; the page token
        # holds the count in one byte.
        _check(2 <= self.listing_shards <= MAX_LISTING_SHARDS, f"listing_shards not in 2..{MAX_LISTING_SHARDS}")
        _check(
            self.profile != "prod" or self.listing_shards >= MIN_PROD_LISTING_SHARDS,
            f"prod needs listing_shards >= {MIN_PROD_LISTING_SHARDS} (about 1,000 writes/s per shard and status)",
        )
        _check(bool(self.notify_statuses), "notify_statuses must not be empty")
        unknown = set(self.notify_statuses) - set(TRACKING_STATUSES)
        _check(not unknown, f"notify_statuses has unknown statuses {sorted(unknown)}")
        # API Gateway gives up on an integration after 29 s; the function must not run longer
        # than the client waits by much (the original's 30 s is kept as the contract says).
        _check(self.api_function.timeout_s <= 30, "the API function's timeout must be at most 30 s")
        _check(0 <= self.rollback_monitoring_minutes <= 180, "rollback_monitoring_minutes not in 0..180")


PROFILES_NAMES = ("dev", "staging", "prod")

_PROFILES: dict[str, Settings] = {
    "dev": Settings(
        env="dev",
        profile="dev",
        table_deletion_protection=False,
        log_retention_days=7,
        retain_logs=False,
        api_function=FunctionSettings(memory_mb=512, timeout_s=30, reserved_concurrency=5, log_level="DEBUG"),
        notifier_function=FunctionSettings(memory_mb=256, timeout_s=60, reserved_concurrency=2, log_level="DEBUG"),
        throttle_rate_limit=10,
        throttle_burst_limit=20,
        listing_shards=2,
    ),
    "staging": Settings(
        env="staging",
        profile="staging",
        table_deletion_protection=False,
        log_retention_days=30,
        retain_logs=False,
        api_function=FunctionSettings(memory_mb=512, timeout_s=30, reserved_concurrency=20),
        notifier_function=FunctionSettings(memory_mb=256, timeout_s=60, reserved_concurrency=5),
        throttle_rate_limit=50,
        throttle_burst_limit=100,
        listing_shards=4,
        release=ReleaseSettings(deployment_config="CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ),
    "prod": Settings(
        env="prod",
        profile="prod",
        table_deletion_protection=True,
        log_retention_days=365,
        retain_logs=True,
        api_function=FunctionSettings(memory_mb=512, timeout_s=30, reserved_concurrency=100),
        notifier_function=FunctionSettings(memory_mb=256, timeout_s=60, reserved_concurrency=10),
        throttle_rate_limit=100,
        throttle_burst_limit=200,
        alarms=AlarmSettings(lambda_errors=1, iterator_age_ms=30_000),
        termination_protection=True,
        rollback_monitoring_minutes=5,
        listing_shards=16,
        release=ReleaseSettings(
            deployment_config="CodeDeployDefault.LambdaCanary10Percent5Minutes", snapstart=True, keep_versions=5
        ),
    ),
}


def settings_for(env: str) -> Settings:
    """The settings of environment `env`: its own profile, or dev's for any other valid name."""
    if not is_valid_env(env):
        raise SettingsError(f"invalid environment {env!r}: must match {ENV_PATTERN}")
    return replace(_PROFILES.get(env, _PROFILES["dev"]), env=env)
