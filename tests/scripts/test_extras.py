"""A command that needs an extra says which, in one line, instead of a ModuleNotFoundError traceback."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

import pytest

from scripts import extras
from scripts.local.command import main as local_main


def without(*names: str):
    """importlib.metadata.version, as if NAMES were not installed."""
    def version(name: str) -> str:
        if name in names:
            raise PackageNotFoundError(name)
        return installed_version(name)
    return version


def test_the_dev_install_has_everything_local_needs() -> None:
    assert extras.missing_requirements("local") == []


def test_the_local_extra_is_read_from_the_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an install without the emulator and the handlers' schema validator
    monkeypatch.setattr(extras, "version", without("moto", "fastjsonschema", "pytest"))
    # THEN those two are missing for `local`; pytest (dev only) is not local's business
    assert extras.missing_requirements("local") == ["fastjsonschema", "moto"]
    assert extras.missing_requirements("dev") == ["fastjsonschema", "moto", "pytest"]


def test_an_uninstalled_project_has_nothing_to_compare_with() -> None:
    assert extras.missing_requirements("local", distribution="no-such-distribution-here") == []


def test_scripts_local_without_its_extra_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the base install only (README's first command): no fastjsonschema, powertools or moto
    monkeypatch.setattr(extras, "version", without("fastjsonschema", "aws-lambda-powertools", "moto"))
    # WHEN the local stack is started
    code = local_main(["--port", "0"])
    # THEN one line says which extra to install, before anything was started
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        "error: python -m scripts.local needs the 'local' extra, which this install lacks "
        "(missing: aws-lambda-powertools, fastjsonschema, moto): "
        'python -m pip install -c constraints.txt -e ".[local]"\n'
    )
