"""Generates the logistics-tracking CloudFormation template with troposphere and awacs.

`build_template(settings)` returns the troposphere Template; `settings_for(env)` the settings.
Both load lazily, so importing `tracking_templates.names` stays cheap for other tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import Settings, settings_for
    from .template import build_template

__all__ = ["Settings", "build_template", "settings_for"]


def __getattr__(name: str) -> Any:
    if name == "build_template":
        from .template import build_template

        return build_template
    if name in ("Settings", "settings_for"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
