"""python -m scripts.package: one reproducible zip per function, uploaded by content hash."""

from __future__ import annotations

import argparse
import sys

from ..aws import Aws, AwsTarget, add_aws_arguments
from ..cli import OneLineParser, non_empty, non_empty_path, run, writable_dir
from .packager import DEFAULT_OUTPUT_DIR, NO_BYTECODE_NOTE, Packager, bytecode_interpreter, upload
from .s3upload import UPLOAD_NOTES


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command's flags (a bad one: exit 2 with one line)."""
    parser = OneLineParser(
        prog="python -m scripts.package",
        description="Build one reproducible zip per function and optionally upload it to S3.",
    )
    parser.add_argument("--output-dir", type=non_empty_path, default=DEFAULT_OUTPUT_DIR, help="where the zips are built (default %(default)s)")
    parser.add_argument("--bucket", type=non_empty, help="upload to s3://BUCKET/PREFIX/<sha256>.zip unless exactly that zip is there")
    parser.add_argument("--prefix", default="", help="key prefix in the bucket")
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="zip the sources only (no bundled dependencies, no bytecode): for emulators and tests",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the CPython of the Lambda runtime's version that compiles the bytecode "
        "(default: python3.13 on PATH)",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="ship sources without bytecode (every cold start then compiles them)",
    )
    add_aws_arguments(parser)
    args = parser.parse_args(argv)
    if args.prefix and not args.bucket:
        parser.error("--prefix needs --bucket")
    return args


def main(argv: list[str] | None = None) -> int:
    """Build (and with --bucket upload) the zips; print `path sha256` or the S3 URI per zip."""
    args = parse_args(argv)

    def command() -> int:
        writable_dir(args.output_dir, "--output-dir")
        interpreter = bytecode_interpreter(args.python, not (args.no_deps or args.no_bytecode))
        if args.no_bytecode and not args.no_deps:
            print(NO_BYTECODE_NOTE, file=sys.stderr)
        packager = Packager(output_dir=args.output_dir, bundle_deps=not args.no_deps, interpreter=interpreter)
        if not args.bucket:
            for built in packager.build_all():
                print(f"{built.archive.path} {built.archive.sha256}")
            return 0
        aws = Aws(AwsTarget(args.region, args.endpoint_url))
        aws.check_credentials()
        s3 = aws.client("s3")
        for built in packager.build_all():
            print(f"{built.archive.path} {built.archive.sha256}")
            result = upload(s3, built, args.bucket, args.prefix)
            print(f"{result.uri} ({UPLOAD_NOTES[result.outcome]})")
        return 0

    return run(command)

