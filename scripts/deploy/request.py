"""What one deploy is asked to do, resolved and validated before any change set."""

from __future__ import annotations

from dataclasses import dataclass, field

from .template import StackTemplate


@dataclass(frozen=True)
class DeployRequest:
    """Everything one deploy needs, resolved and validated."""

    stack_name: str
    template: StackTemplate
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    execute: bool = True
    allow_replacement: bool = False
    # Where templates too big for TemplateBody are uploaded.
    artifact_bucket: str | None = None
    artifact_prefix: str = ""
    # Turn on termination protection (after the first create, or when found off).
    termination_protection: bool = False
    # How long CloudFormation keeps watching the rollback-trigger alarms after an update.
    rollback_monitoring_minutes: int = 0
    # Parameters a live stack may never change (Environment: every named resource would be
    # replaced); a request with another value is refused before any change set.
    pinned_parameters: tuple[str, ...] = ()
