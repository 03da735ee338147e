"""The bootstrap stack, which holds the artifact bucket: created or updated, or found in place."""

from __future__ import annotations

from dataclasses import dataclass

from .bootstrap_template import BUCKET_LOGICAL_ID, build_bootstrap_template
from .deployer import UPDATABLE_STATES, Deployer, DeployRequest
from .template import StackTemplate

DEFAULT_BOOTSTRAP_STACK = "tracking-bootstrap"


@dataclass(frozen=True)
class BootstrapResult:
    """The artifact bucket's name and what the run did ('deployed', 'no-changes', 'existing')."""

    bucket: str
    outcome: str


def bootstrap(deployer: Deployer, stack_name: str = DEFAULT_BOOTSTRAP_STACK) -> BootstrapResult:
    """Create or update the bootstrap stack; return its bucket."""
    template = StackTemplate.from_text(build_bootstrap_template().to_json(), "bootstrap template")
    result = deployer.deploy(DeployRequest(stack_name=stack_name, template=template))
    return BootstrapResult(deployer.physical_id(stack_name, BUCKET_LOGICAL_ID), result.outcome)


def ensure_bootstrapped(
    deployer: Deployer, stack_name: str = DEFAULT_BOOTSTRAP_STACK
) -> BootstrapResult:
    """The bucket of a ready bootstrap stack as it is (2 reads), or bootstrap it first."""
    stack = deployer.describe_stack(stack_name)
    if stack is not None and stack.status in UPDATABLE_STATES:
        return BootstrapResult(deployer.physical_id(stack.stack_id, BUCKET_LOGICAL_ID), "existing")
    return bootstrap(deployer, stack_name)
