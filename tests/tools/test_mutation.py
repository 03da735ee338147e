"""The mutation-testing runner: import names, the narrow test selection, the report, input errors."""

from __future__ import annotations

from pathlib import Path

import mutmut.__main__
import mutmut.mutation.file_mutation
import mutmut.utils.format_utils
import pytest

from tools import mutation


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("functions/tracking/tracking_api/validation.py", "tracking_api.validation"),
        ("functions/tracking/tracking_api/__init__.py", "tracking_api"),
        ("functions/notifier/status_notifier/message.py", "status_notifier.message"),
        ("scripts/deploy/changeset.py", "scripts.deploy.changeset"),
        ("scripts/local/gateway/validation.py", "scripts.local.gateway.validation"),
        ("tracking_templates/names.py", "tracking_templates.names"),
    ],
)
def test_module_name_is_the_import_path(path: str, name: str) -> None:
    assert mutation.module_name(Path(path)) == name


def test_import_root_is_the_folder_put_on_sys_path() -> None:
    assert mutation.import_root(Path("functions/tracking/tracking_api/pagination.py")) == Path("functions/tracking")
    assert mutation.import_root(Path("scripts/local/gateway/validation.py")) == Path(".")


def test_selection_is_the_test_files_importing_the_module(tmp_path: Path) -> None:
    files = {
        "test_from_package.py": "from tracking_api import validation\n",
        "test_dotted.py": "import tracking_api.validation as v\n",
        "sub/test_in_function.py": "def test():\n    from tracking_api.validation import parse\n",
        "test_other_validation.py": "from scripts.local.gateway.validation import RequestValidator\n",
        "test_sibling.py": "from tracking_api import pagination\n",
        "helper.py": "from tracking_api import validation\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    selected = mutation.importing_tests("tracking_api.validation", tmp_path)

    root = tmp_path.as_posix()
    assert selected == [f"{root}/sub/test_in_function.py", f"{root}/test_dotted.py", f"{root}/test_from_package.py"]


def test_selection_of_a_real_module_holds_its_own_test_file() -> None:
    assert "tests/functions/tracking/test_pagination.py" in mutation.importing_tests("tracking_api.pagination")


def test_report_counts_timeouts_as_killed_and_lists_survivors_in_source_order() -> None:
    summary = mutation.Summary(
        {
            "m.x_f__mutmut_10": "survived",
            "m.x_f__mutmut_2": "no tests",
            "m.x_f__mutmut_1": "killed",
            "m.x_e__mutmut_3": "timeout",
            "m.x_e__mutmut_4": "survived",
        }
    )

    assert summary.killed == 2
    assert summary.survivors == ["m.x_e__mutmut_4", "m.x_f__mutmut_2", "m.x_f__mutmut_10"]
    assert summary.counts() == "mutants 5  killed 2 (1 timed out)  survived 3  score 40.0 %"
    assert summary.survivor_line("m.x_f__mutmut_2") == "  m.x_f__mutmut_2  (no tests)"
    assert summary.survivor_line("m.x_e__mutmut_4") == "  m.x_e__mutmut_4"


def test_counts_leave_out_timeouts_when_there_are_none() -> None:
    summary = mutation.Summary({"m.x_f__mutmut_1": "killed", "m.x_f__mutmut_2": "survived"})
    assert summary.counts() == "mutants 2  killed 1  survived 1  score 50.0 %"


def test_no_mutants_scores_100() -> None:
    assert mutation.Summary({}).score == 100.0


def test_mutmut_names_mutants_by_import_path(monkeypatch: pytest.MonkeyPatch) -> None:
    original = mutmut.utils.format_utils.get_mutant_name
    for module in (mutmut.utils.format_utils, mutmut.__main__, mutmut.mutation.file_mutation):
        monkeypatch.setattr(module, "get_mutant_name", original)  # restored after the test

    mutation._name_mutants_by_import_path()

    for module in (mutmut.utils.format_utils, mutmut.__main__, mutmut.mutation.file_mutation):
        name = module.get_mutant_name(Path("functions/tracking/tracking_api/validation.py"), "x_parse__mutmut_1")
        assert name == "tracking_api.validation.x_parse__mutmut_1"
        unchanged = module.get_mutant_name(Path("scripts/deploy/changeset.py"), "x_f__mutmut_2")
        assert unchanged == "scripts.deploy.changeset.x_f__mutmut_2"


@pytest.mark.parametrize("path", ["README.md", "scripts/no_such_module.py", "/work/scripts/changeset.py"])
def test_a_path_that_is_not_a_module_exits_2_with_one_line(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation.main([path]) == 2

    assert capsys.readouterr().err == f"mutation: {path} is not a .py file relative to the repo root\n"


def test_a_module_no_test_imports_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation.main(["tracking_templates/__main__.py"]) == 2

    message = "mutation: no test file imports tracking_templates.__main__; name them with --tests\n"
    assert capsys.readouterr().err == message
