"""python -m scripts.package: one reproducible zip per function, uploaded by content hash."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tracking_templates.sources import FUNCTIONS_DIR

from . import deps
from .aws import Aws, AwsTarget, add_aws_arguments
from .cli import OneLineParser, non_empty, non_empty_path, run, writable_dir
from .errors import DeployError
from .zipbuild import ZipArchive, collect, write_zip

DEFAULT_OUTPUT_DIR = Path("build")
REQUIREMENTS_FILE = "requirements.txt"


@dataclass(frozen=True)
class FunctionZip:
    """A function's built zip."""

    function: str
    archive: ZipArchive


@dataclass(frozen=True)
class UploadedZip:
    """Where a function's zip lives in S3, and whether this run had to upload it."""

    function: str
    bucket: str
    key: str
    sha256: str
    uploaded: bool

    @property
    def uri(self) -> str:
        """s3://bucket/key."""
        return f"s3://{self.bucket}/{self.key}"


class Packager:
    """Builds the functions' zips: sources plus their bundled third-party dependencies."""

    def __init__(
        self,
        functions_dir: Path = FUNCTIONS_DIR,
        output_dir: Path = DEFAULT_OUTPUT_DIR,
        bundle_deps: bool = True,
        deps_cache: Path | None = None,
    ) -> None:
        self.functions_dir = functions_dir
        self.output_dir = output_dir
        self.bundle_deps = bundle_deps
        self.deps_cache = deps_cache or output_dir / "deps"

    def functions(self) -> list[str]:
        """The function folders under functions/, sorted."""
        return sorted(
            path.name
            for path in self.functions_dir.iterdir()
            if path.is_dir() and not path.name.startswith((".", "_"))
        )

    def build(self, function: str) -> FunctionZip:
        """Build OUTPUT_DIR/<function>.zip; the folder's contents are the zip's root."""
        source = self.functions_dir / function
        roots: list[tuple[Path, tuple[str, ...]]] = []
        if self.bundle_deps:
            installed = deps.dependency_dir(source / REQUIREMENTS_FILE, self.deps_cache, function)
            if installed is not None:
                roots.append((installed, deps.NOT_SHIPPED))
        # The function's own files come last so that they win over a same-named dependency.
        roots.append((source, (REQUIREMENTS_FILE,)))
        archive = write_zip(collect(roots), self.output_dir / f"{function}.zip")
        return FunctionZip(function, archive)

    def build_all(self) -> list[FunctionZip]:
        """Build every function's zip."""
        return [self.build(function) for function in self.functions()]


def object_key(prefix: str, sha256: str, suffix: str = ".zip") -> str:
    """The content-addressed key: PREFIX/<sha256><suffix>."""
    name = f"{sha256}{suffix}"
    return f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """HeadObject: True if KEY exists in BUCKET."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_if_missing(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> bool:
    """Put BODY at KEY unless it is already there (content-addressed keys never change)."""
    if object_exists(s3, bucket, key):
        return False
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return True


def upload(s3: Any, built: FunctionZip, bucket: str, prefix: str = "") -> UploadedZip:
    """Upload a function's zip to s3://BUCKET/PREFIX/<sha256>.zip unless it is already there."""
    key = object_key(prefix, built.archive.sha256)
    uploaded = upload_if_missing(
        s3, bucket, key, built.archive.path.read_bytes(), "application/zip"
    )
    return UploadedZip(built.function, bucket, key, built.archive.sha256, uploaded)


def package_and_upload(
    packager: Packager, s3: Any, bucket: str, prefix: str = ""
) -> list[UploadedZip]:
    """Build every zip and upload the ones the bucket lacks."""
    return [upload(s3, built, bucket, prefix) for built in packager.build_all()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m scripts.package",
        description="Build one reproducible zip per function and optionally upload it to S3.",
    )
    parser.add_argument("--output-dir", type=non_empty_path, default=DEFAULT_OUTPUT_DIR, help="where the zips are built (default %(default)s)")
    parser.add_argument("--bucket", type=non_empty, help="upload to s3://BUCKET/PREFIX/<sha256>.zip unless that key exists")
    parser.add_argument("--prefix", default="", help="key prefix in the bucket")
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="zip the sources only, without bundling functions/<fn>/requirements.txt",
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
        packager = Packager(output_dir=args.output_dir, bundle_deps=not args.no_deps)
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
            note = "uploaded" if result.uploaded else "exists"
            print(f"{result.uri} {note}")
        return 0

    return run(command)


if __name__ == "__main__":
    sys.exit(main())
