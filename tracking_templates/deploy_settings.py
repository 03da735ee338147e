"""The deploy's own defaults for one environment: the `[environments.ENV.deploy]` table of the settings file.

Each field mirrors a `scripts.deploy` flag of the same name (dashes for underscores); a flag
given on the command line wins. The deploy checks the values as it checks its flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .settings import SettingsError


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploySettings:
    """Defaults of `scripts.deploy`'s flags for one environment (None or empty: the flag's own default)."""

    stack_name: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    bootstrap_stack: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # An empty string is never meant (an unset variable pasted in): say so rather than
        # falling back to the flag's default.
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, str) and not value.strip():
                raise SettingsError(f"{item.name} must not be empty")
        for name, pairs in (("tags", self.tags), ("parameter_overrides", self.parameter_overrides)):
            if any(not key.strip() for key in pairs):
                raise SettingsError(f"{name} has an empty key")
