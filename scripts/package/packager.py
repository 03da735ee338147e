"""The functions' zips: built reproducibly (sources, bundled dependencies, bytecode), uploaded by content hash."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracking_templates.sources import FUNCTIONS_DIR

from . import bytecode, deps
from .interpreter import Interpreter, find_interpreter
from .s3upload import REPLACED, UPLOADED, check_object, object_key, upload_if_missing
from .zipbuild import ZipArchive, iter_files, write_zip

DEFAULT_OUTPUT_DIR = Path("build")
NO_BYTECODE_NOTE = (
    "note: --no-bytecode: the zips carry no bytecode, so every cold start compiles the code from source"
)


@dataclass(frozen=True)
class FunctionZip:
    """A function's built zip."""

    function: str
    archive: ZipArchive


@dataclass(frozen=True)
class UploadedZip:
    """Where a function's zip lives in S3, and what this run did or found (s3upload's outcomes)."""

    function: str
    bucket: str
    key: str
    sha256: str
    outcome: str

    @property
    def uploaded(self) -> bool:
        """True if this run wrote the object (it was missing, or held other bytes)."""
        return self.outcome in (UPLOADED, REPLACED)

    @property
    def uri(self) -> str:
        """s3://bucket/key."""
        return f"s3://{self.bucket}/{self.key}"


class Packager:
    """Builds the functions' zips: sources plus their bundled third-party dependencies.

    With an INTERPRETER (a CPython of the runtime's version), every .py ships with its
    hash-based bytecode; without one the zip holds sources only.
    """

    def __init__(
        self,
        functions_dir: Path = FUNCTIONS_DIR,
        output_dir: Path = DEFAULT_OUTPUT_DIR,
        bundle_deps: bool = True,
        deps_cache: Path | None = None,
        interpreter: Interpreter | None = None,
    ) -> None:
        self.functions_dir = functions_dir
        self.output_dir = output_dir
        self.bundle_deps = bundle_deps
        self.deps_cache = deps_cache or output_dir / "deps"
        self.interpreter = interpreter
        self.bytecode_cache = output_dir / "bytecode"

    def functions(self) -> list[str]:
        """The function folders under functions/, sorted."""
        return sorted(
            path.name
            for path in self.functions_dir.iterdir()
            if path.is_dir() and not path.name.startswith((".", "_"))
        )

    def _tree(self, root: Path, skip_top: tuple[str, ...]) -> dict[str, Path]:
        """ROOT's files to ship, with their bytecode when there is an interpreter."""
        files = dict(iter_files(root, skip_top))
        if self.interpreter is not None:
            files.update(bytecode.compile_entries(files, self.interpreter, self.bytecode_cache))
        return files

    def build(self, function: str) -> FunctionZip:
        """Build OUTPUT_DIR/<function>.zip; the folder's contents are the zip's root."""
        source = self.functions_dir / function
        entries: dict[str, Path] = {}
        if self.bundle_deps:
            installed = deps.dependency_dir(source / deps.LOCK_FILE, self.deps_cache, function)
            if installed is not None:
                entries.update(self._tree(installed, deps.NOT_SHIPPED))
        # The function's own files come last so that they win over a same-named dependency.
        entries.update(self._tree(source, deps.REQUIREMENT_FILES))
        archive = write_zip(entries, self.output_dir / f"{function}.zip")
        return FunctionZip(function, archive)

    def build_all(self) -> list[FunctionZip]:
        """Build every function's zip."""
        return [self.build(function) for function in self.functions()]


def upload(s3: Any, built: FunctionZip, bucket: str, prefix: str = "") -> UploadedZip:
    """Upload a function's zip to s3://BUCKET/PREFIX/<sha256>.zip unless exactly it is there."""
    key = object_key(prefix, built.archive.sha256)
    outcome = upload_if_missing(
        s3, bucket, key, built.archive.path.read_bytes(), "application/zip"
    )
    return UploadedZip(built.function, bucket, key, built.archive.sha256, outcome)


def plan_upload(s3: Any, built: FunctionZip, bucket: str, prefix: str = "") -> UploadedZip:
    """Where UPLOAD would put the zip and what is there now (EXISTS, MISSING, MISMATCH); writes nothing."""
    key = object_key(prefix, built.archive.sha256)
    outcome = check_object(s3, bucket, key, built.archive.path.read_bytes())
    return UploadedZip(built.function, bucket, key, built.archive.sha256, outcome)


def package_and_upload(
    packager: Packager, s3: Any, bucket: str, prefix: str = ""
) -> list[UploadedZip]:
    """Build every zip and upload the ones the bucket lacks."""
    return [upload(s3, built, bucket, prefix) for built in packager.build_all()]


def bytecode_interpreter(python: str | None, bytecode_wanted: bool) -> Interpreter | None:
    """The interpreter for the zips' bytecode (--python, else found), or None if not wanted."""
    if not bytecode_wanted:
        return None
    return find_interpreter(python)
