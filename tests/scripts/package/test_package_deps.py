"""Bundling third-party dependencies for the Lambda platform (a real pip run against PyPI)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts.package import deps
from scripts.package.packager import Packager

from .test_package_zip import make_function

# A lock (uv pip compile --generate-hashes) of tiny wheels: a pure one, a compiled one (wrapt,
# which powertools' tracer needs), and one the Lambda runtime already provides (six), which
# must be left out.
LOCK = (Path(__file__).parent / "fixtures" / "bundle-lock.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_dependencies_are_bundled_for_lambda_arm64_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function with a lock
    root = make_function(tmp_path / "src")
    (root / "svc" / deps.LOCK_FILE).write_text(LOCK)
    packager = Packager(root, tmp_path / "build")
    # WHEN packaging it
    first = packager.build("svc").archive
    # THEN the zip holds the sources and the Lambda-platform wheels, not what the runtime has
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "fastjsonschema/__init__.py" in names
    compiled = [n for n in names if n.startswith("wrapt/") and n.endswith(".so")]
    assert compiled and all("cpython-313-aarch64-linux-gnu" in n for n in compiled)
    assert "six.py" not in names and not any(n.startswith(("bin/", "six-")) for n in names)
    assert deps.COMPLETE_MARKER not in names and "requirements.txt" not in names
    # AND packaging again reuses the cache (no pip run) and gives the same bytes
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran again")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert packager.build("svc").archive.sha256 == first.sha256


def test_pip_command_targets_the_lambda_platform(tmp_path: Path) -> None:
    # GIVEN / WHEN the pip command for a requirements file
    args = deps.pip_install_args(tmp_path / "requirements.txt", tmp_path / "target")
    # THEN it asks for binary wheels for CPython 3.13 on manylinux aarch64
    joined = " ".join(args)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--python-version 3.13" in joined and "--implementation cp" in joined
    assert "--only-binary=:all:" in args
    # AND installs exactly the lock (no resolving of its own), every file checked against its hash
    assert "--no-deps" in args and "--require-hashes" in args
    assert args[-2:] == ["--requirement", str(tmp_path / "requirements.txt")]


@pytest.mark.slow
def test_a_wheel_that_does_not_match_its_locked_hash_is_refused(tmp_path: Path) -> None:
    # GIVEN a lock whose fastjsonschema hashes are not those of the published wheel
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"fastjsonschema==2.21.1 \\\n    --hash=sha256:{'0' * 64}\n")
    # WHEN bundling THEN pip refuses it, the error says so, and nothing is cached
    with pytest.raises(deps.DeployError, match=r"^pip could not install .*requirements\.txt: "
                       r"THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE$"):
        deps.dependency_dir(lock, tmp_path / "cache", "svc")
    assert not list((tmp_path / "cache").glob(f"*/{deps.COMPLETE_MARKER}"))


def test_no_requirements_means_nothing_to_bundle(tmp_path: Path) -> None:
    # GIVEN a requirements file with only comments WHEN resolving THEN nothing is installed
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# boto3 is provided by the runtime\n\n")
    assert deps.dependency_dir(requirements, tmp_path / "cache", "svc") is None
    assert deps.dependency_dir(tmp_path / "absent.txt", tmp_path / "cache", "svc") is None


def test_a_pip_failure_is_a_clear_deploy_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN pip failing (as for a version that does not exist)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("no-such-package==0.0.0\n")

    def failing_pip(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found for no-such-package==0.0.0")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    # WHEN bundling THEN one clear error naming pip's reason, and no half-built cache entry
    with pytest.raises(deps.DeployError, match="No matching distribution"):
        deps.dependency_dir(requirements, tmp_path / "cache", "svc")
    assert not list((tmp_path / "cache").glob(f"*/{deps.COMPLETE_MARKER}"))


@pytest.mark.parametrize(
    ("stderr", "gist"),
    [
        ("WARNING: ignored\nERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you "
         "have updated...\n    fastjsonschema==2.21.1 from https://x\n        Got        c9e5\n",
         "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"),
        ("ERROR: No matching distribution found for no-such-package==0.0.0\nERROR: later\n",
         "No matching distribution found for no-such-package==0.0.0"),
        ("something went wrong\n  last line here  \n", "last line here"),
        ("  \n", "(no output)"),
    ],
)
def test_pips_failure_is_reduced_to_its_first_error_sentence(stderr: str, gist: str) -> None:
    assert deps.pip_error(stderr) == gist


def test_the_bundle_cache_key_covers_the_lock_the_runtime_and_the_bundle_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a lock and its key
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    key = deps.cache_key(lock)
    assert key == deps.cache_key(lock) and len(key) == 16
    # WHEN the runtime, the architecture, the bundle format or the lock change THEN so does the key
    keys = {key}
    for name, value in (("LAMBDA_RUNTIME", "python3.14"), ("LAMBDA_ARCHITECTURE", "x86_64"), ("BUNDLE_FORMAT", 99)):
        with monkeypatch.context() as patch:
            patch.setattr(deps, name, value)
            keys.add(deps.cache_key(lock))
    lock.write_text(LOCK.replace("2.21.1", "2.21.2"))
    keys.add(deps.cache_key(lock))
    assert len(keys) == 5


def test_installing_says_what_it_does_once_then_the_cache_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a lock, and pip standing in (it installs nothing: the bundle is empty but complete)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("fastjsonschema==2.21.1 --hash=sha256:" + "0" * 64 + "\n")
    ran: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda args, **_: ran.append(args) or subprocess.CompletedProcess(args, 0, "", ""))
    said: list[str] = []
    # WHEN bundled twice
    first = deps.dependency_dir(requirements, tmp_path / "cache", "svc", say=said.append)
    second = deps.dependency_dir(requirements, tmp_path / "cache", "svc", say=said.append)
    # THEN the first run said what it was doing before pip ran (it was silent for seconds), the second nothing
    assert first == second == tmp_path / "cache" / f"svc-{deps.cache_key(requirements)}"
    assert len(ran) == 1
    assert said == [
        f"svc: installing its locked dependencies ({requirements}) for python3.13 on arm64 into {first}; "
        "pip may download them (once per lock, then cached)"
    ]
