"""python -m scripts.bootstrap: the stack that holds the artifact bucket (create or update)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from ..aws import Aws, AwsTarget, add_aws_arguments, cli_options
from ..cli import STACK_INTERRUPTED, OneLineParser, run
from ..console import Console
from .bootstrap_template import BUCKET_LOGICAL_ID, build_bootstrap_template
from .deployer import UPDATABLE_STATES, Deployer, DeployRequest, Polling
from .names import validate_stack_name
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m scripts.bootstrap",
        description="Create or update the stack holding the artifact bucket; print its name.",
    )
    parser.add_argument(
        "--stack-name", default=DEFAULT_BOOTSTRAP_STACK, help="default %(default)s"
    )
    add_aws_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, polling: Polling | None = None) -> int:
    """Bootstrap; the bucket name is the last line on stdout."""
    args = parse_args(argv)

    def command() -> int:
        validate_stack_name(args.stack_name)
        aws = Aws(AwsTarget(args.region, args.endpoint_url))
        aws.check_credentials()
        console = Console()
        deployer = Deployer(
            aws.client("cloudformation"), aws.client("s3"), polling, console,
            cli_options=cli_options(aws.target),
        )  # fmt: skip
        result = bootstrap(deployer, args.stack_name)
        console.info(result.bucket)
        return 0

    return run(command, STACK_INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
