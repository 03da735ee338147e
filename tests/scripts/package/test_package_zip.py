"""Reproducible zips and content-addressed uploads."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from scripts.package import command as package
from scripts.package.packager import Packager
from scripts.package.zipbuild import FIXED_DATE_TIME

from ..deploy_support import client

SOURCES = {
    "handler.py": "from app import run\n\ndef main(event, context):\n    return run(event)\n",
    "app/__init__.py": "",
    "app/core.py": "def run(event):\n    return event\n",
    "app/schema.json": '{"type": "object"}\n',
}


def make_function(root: Path, name: str = "svc", order: list[str] | None = None) -> Path:
    """Write the sample sources under ROOT/NAME (in ORDER, which changes directory order)."""
    folder = root / name
    for relative in order or list(SOURCES):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SOURCES[relative])
    return root


def make_other_checkout(root: Path) -> Path:
    """The sample sources under ROOT/svc written in another order, with other times and
    permissions, and build litter (stale bytecode)."""
    make_function(root, order=list(reversed(SOURCES)))
    for index, path in enumerate(sorted((root / "svc").rglob("*"))):
        if path.is_file():
            os.utime(path, (1_000_000_000 + index, 1_700_000_000 + index * 977))
            path.chmod(0o755 if index % 2 else 0o600)
    (root / "svc" / "app" / "__pycache__").mkdir()
    (root / "svc" / "app" / "__pycache__" / "core.cpython-313.pyc").write_bytes(b"\x00junk")
    (root / "svc" / "stale.pyc").write_bytes(b"\x00junk")
    return root


def test_two_copies_with_different_times_modes_and_order_give_identical_bytes(tmp_path: Path) -> None:
    # GIVEN two checkouts of the same sources, the second written in another order, with
    # other times and permissions, and build litter
    first = make_function(tmp_path / "a")
    second = make_other_checkout(tmp_path / "b")
    # WHEN both are packaged
    zip_a = Packager(first, tmp_path / "out-a", bundle_deps=False).build("svc").archive
    zip_b = Packager(second, tmp_path / "out-b", bundle_deps=False).build("svc").archive
    # THEN the zips are byte-identical
    assert zip_a.path.read_bytes() == zip_b.path.read_bytes()
    assert zip_a.sha256 == zip_b.sha256 == hashlib.sha256(zip_a.path.read_bytes()).hexdigest()
    # AND hold the sources at the root, sorted, with fixed times and modes, no bytecode
    with zipfile.ZipFile(zip_b.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(SOURCES)
    assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_changing_one_byte_changes_the_hash(tmp_path: Path) -> None:
    # GIVEN a packaged function
    root = make_function(tmp_path)
    before = Packager(root, tmp_path / "out", bundle_deps=False).build("svc").archive.sha256
    # WHEN one source changes
    (root / "svc" / "app" / "core.py").write_text("def run(event):\n    return None\n")
    # THEN so does the zip's hash
    assert Packager(root, tmp_path / "out", bundle_deps=False).build("svc").archive.sha256 != before


def test_main_builds_one_zip_per_function_and_prints_path_and_sha256(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the project's functions/ folder
    # WHEN packaging without a bucket (sources only)
    code = package.main(["--output-dir", str(tmp_path), "--no-deps"])
    # THEN one `path sha256` line per function folder, each matching its file
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(Path(line.split()[0]).name for line in lines) == ["notifier.zip", "tracking.zip"]
    for line in lines:
        path, digest = line.split()
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
    with zipfile.ZipFile(tmp_path / "tracking.zip") as archive:
        assert "handler.py" in archive.namelist() and "requirements.txt" not in archive.namelist()


@pytest.mark.slow
def test_upload_is_content_addressed_and_skipped_when_the_key_exists(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a bucket
    s3 = client(moto_endpoint, "s3")
    s3.create_bucket(Bucket="artifacts")
    args = ["--output-dir", str(tmp_path), "--no-deps", "--bucket", "artifacts", "--prefix", "code/",
            "--endpoint-url", moto_endpoint]  # fmt: skip
    # WHEN packaging with --bucket twice
    assert package.main(args) == 0
    first = capsys.readouterr().out
    versions_after_first = s3.list_object_versions(Bucket="artifacts").get("Versions", [])
    assert package.main(args) == 0
    second = capsys.readouterr().out
    # THEN the first run uploads each zip under its sha256, the second uploads nothing
    uris = [line.split()[0] for line in first.splitlines() if line.startswith("s3://")]
    assert len(uris) == 2 and first.count(" (uploaded)\n") == 2
    for uri in uris:
        key = uri.removeprefix("s3://artifacts/")
        digest = key.removeprefix("code/").removesuffix(".zip")
        assert hashlib.sha256(s3.get_object(Bucket="artifacts", Key=key)["Body"].read()).hexdigest() == digest
    # (the deploy's word for it: the package said "exists" where the deploy said "(unchanged)")
    assert second.count(" (unchanged)\n") == 2 and "uploaded" not in second
    assert s3.list_object_versions(Bucket="artifacts").get("Versions", []) == versions_after_first


def test_prefix_without_bucket_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN --prefix comes without --bucket THEN argparse's usage error, exit 2
    with pytest.raises(SystemExit) as exit_info:
        package.main(["--prefix", "p"])
    assert exit_info.value.code == 2
    assert "--prefix needs --bucket" in capsys.readouterr().err


def test_copying_the_tree_keeps_the_hash(tmp_path: Path) -> None:
    # GIVEN the project's tracking function copied elsewhere (new inode times everywhere)
    from tracking_templates.sources import FUNCTIONS_DIR

    copy = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR / "tracking", copy / "tracking", copy_function=shutil.copy)
    # WHEN both are zipped THEN the bytes agree
    original = Packager(FUNCTIONS_DIR, tmp_path / "o1", bundle_deps=False).build("tracking").archive
    copied = Packager(copy, tmp_path / "o2", bundle_deps=False).build("tracking").archive
    assert original.sha256 == copied.sha256


def test_unchanged_inputs_reuse_the_zip_and_a_damaged_zip_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a built zip
    root = make_function(tmp_path)
    packager = Packager(root, tmp_path / "out", bundle_deps=False)
    built = packager.build("svc").archive
    original = built.path.read_bytes()
    # WHEN building again from the same inputs THEN nothing is deflated again
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZipFile", None)  # any attempt to write a zip would fail
        assert packager.build("svc").archive == built
    # WHEN the zip on disk was damaged THEN it is rebuilt, to the same bytes as before
    built.path.write_bytes(b"not a zip")
    assert packager.build("svc").archive.sha256 == built.sha256
    assert built.path.read_bytes() == original


@pytest.mark.slow
def test_boto3_aws_endpoint_url_is_honoured_without_the_flag(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN only boto3's own AWS_ENDPOINT_URL pointing at the emulator
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # WHEN packaging with --bucket and no --endpoint-url
    code = package.main(["--output-dir", str(tmp_path), "--no-deps", "--bucket", "artifacts"])
    # THEN the zips landed in the emulator's bucket
    assert code == 0
    keys = [o["Key"] for o in client(moto_endpoint, "s3").list_objects_v2(Bucket="artifacts")["Contents"]]
    assert len(keys) == 2 and all(key.endswith(".zip") for key in keys)
