"""The settings file's `deploy` table as the defaults of `scripts.deploy`'s flags (a flag given wins)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tracking_templates.settings_file import SettingsFile

from ..aws import check_endpoint_url
from ..cli import check_region
from ..errors import UsageError
from .bootstrap import DEFAULT_BOOTSTRAP_STACK
from .names import validate_stack_name, validate_stack_tags

# How each deploy-table value is checked: as the flag of the same name is.
CHECKS: dict[str, Callable[[Any], object]] = {
    "stack_name": validate_stack_name,
    "bootstrap_stack": validate_stack_name,
    "region": check_region,
    "endpoint_url": check_endpoint_url,
    "tags": lambda tags: validate_stack_tags(tags, where=""),
}


def check_deploy_tables(settings_file: SettingsFile) -> None:
    """Check every environment's deploy table as the flags are checked (a mistake in a table not
    deployed now is still one); a bad value names the file and the key."""
    for env in settings_file.environments:
        table = settings_file.deploy_for(env)
        for key, check in CHECKS.items():
            value = getattr(table, key)
            if value is not None:
                try:
                    check(value)
                except UsageError as error:
                    raise UsageError(f"{settings_file.deploy_key(env, key)}: {error}") from None


def apply_file_defaults(args: argparse.Namespace, settings_file: SettingsFile, env: str) -> None:
    """Check SETTINGS_FILE's deploy tables, then fill ARGS' flags that were not given from ENV's.

    Tags and parameter overrides merge key by key (the flag's value wins); the file's land in
    `args.file_tags` and `args.file_parameter_overrides`.
    """
    check_deploy_tables(settings_file)
    table = settings_file.deploy_for(env)
    for key in ("stack_name", "bootstrap_stack", "region", "endpoint_url", "bucket"):
        # `is None`, not `or`: a flag given empty must reach its own check (an empty
        # --endpoint-url would otherwise silently mean real AWS).
        if getattr(args, key) is None:
            setattr(args, key, getattr(table, key))
    if args.bootstrap_stack is None:
        args.bootstrap_stack = DEFAULT_BOOTSTRAP_STACK
    args.file_tags = table.tags
    args.file_parameter_overrides = table.parameter_overrides
