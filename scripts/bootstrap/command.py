"""python -m scripts.bootstrap: the stack that holds the artifact bucket (create or update)."""

from __future__ import annotations

import argparse

from ..aws import Aws, AwsTarget, add_aws_arguments, cli_options
from ..cli import STACK_INTERRUPTED, OneLineParser, run
from ..console import Console
from ..deploy.bootstrap import DEFAULT_BOOTSTRAP_STACK, bootstrap
from ..deploy.deployer import Deployer, Polling
from ..deploy.names import validate_stack_name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command's flags (a bad one: exit 2 with one line)."""
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

