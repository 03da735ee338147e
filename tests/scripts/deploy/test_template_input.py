"""Templates and parameter values that are not what CloudFormation takes: one line, exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scripts.deploy import command as deploy
from scripts.deploy.template import TEMPLATE_BODY_LIMIT, TEMPLATE_URL_LIMIT, StackTemplate, constraint_problem
from scripts.errors import UsageError

from ..deploy_support import FAST, queue_template

# Nothing listens there: a test that reaches the network would fail slowly, not pass.
NOWHERE = "http://127.0.0.1:9"


def _deploy_file(path: Path, *extra: str) -> int:
    return deploy.main(["--stack-name", "ok", "--template-file", str(path), "--endpoint-url", NOWHERE, *extra],
                       polling=FAST)  # fmt: skip


def _refused(capsys: pytest.CaptureFixture[str], code: int, *expected: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for text in expected:
        assert text in err, err
    return err


def _with_parameter(declaration: dict) -> str:
    document = json.loads(queue_template())
    document["Parameters"]["Extra"] = declaration
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("Resources:\n  Q: " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Parameters": ["A"]}', "Parameters must be a mapping"),
        ('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Parameters": {"A": "String"}}',
         "parameter A must be a mapping"),
    ],
)
def test_malformed_templates_are_refused_in_one_line(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a template file CloudFormation would never take
    path = tmp_path / "t.json"
    path.write_text(text)
    # WHEN deploying it THEN exit 2, one line, before any AWS call (the endpoint is dead)
    _refused(capsys, _deploy_file(path), expected)


@pytest.mark.parametrize(
    ("declaration", "value", "expected"),
    [
        ({"Type": "Number", "MinValue": "low"}, "3", "the template's MinValue 'low' is not a number"),
        ({"Type": "Number", "MaxValue": [1]}, "3", "the template's MaxValue [1] is not a number"),
        ({"Type": "String", "MaxLength": "many"}, "x", "the template's MaxLength 'many' is not an integer"),
        ({"Type": "String", "MinLength": True}, "x", "the template's MinLength True is not an integer"),
        ({"Type": "String", "AllowedPattern": "[a-"}, "x", "AllowedPattern '[a-' is not a valid regular expression"),
        ({"Type": "String", "AllowedPattern": "(?<=a"}, "a", "is not a valid regular expression"),
    ],
)
def test_constraints_that_are_not_numbers_or_patterns_are_the_templates_error(
    declaration: dict, value: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text(_with_parameter(declaration))
    _refused(capsys, _deploy_file(path, "--parameter-overrides", f"Extra={value}"), expected)


def test_a_pattern_python_warns_about_is_checked_silently(recwarn: pytest.WarningsRecorder) -> None:
    # "[[a]" makes re warn (FutureWarning: possible nested set): not the user's business
    import re
    import warnings

    re.purge()  # re caches compiled patterns: compile this one anew
    filters = list(warnings.filters)
    assert constraint_problem({"AllowedPattern": "[[a]x"}, "[x") is None
    assert warnings.filters == filters  # silenced for that call only
    assert constraint_problem({"AllowedPattern": "[[a]x"}, "bx") == "must match the pattern [[a]x"
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


@pytest.mark.parametrize(
    ("declaration", "value", "problem"),
    [
        # Every bound holds at its exact value and fails one past it
        ({"Type": "Number", "MinValue": 1, "MaxValue": 10}, "1", None),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 10}, "10", None),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 10}, "0.999", "must be at least 1"),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 10}, "10.001", "must be at most 10"),
        ({"Type": "Number", "MinValue": "-5"}, "-5", None),
        ({"Type": "Number", "MinValue": "-5"}, "-6", "must be at least -5"),
        ({"Type": "String", "MinLength": 2, "MaxLength": 3}, "ab", None),
        ({"Type": "String", "MinLength": 2, "MaxLength": 3}, "abc", None),
        ({"Type": "String", "MinLength": 2, "MaxLength": 3}, "a", "must be at least 2 characters"),
        ({"Type": "String", "MinLength": 2, "MaxLength": 3}, "abcd", "must be at most 3 characters"),
        ({"Type": "String"}, "", None),
        ({"Type": "Number"}, "ten", "must be a number"),
        ({"Type": "Number"}, "", "must be a number"),
        ({"Type": "String", "MaxLength": 0}, "", None),
        ({"Type": "Number", "AllowedValues": [1, 2]}, "3", "must be one of 1, 2"),
        ({"AllowedPattern": "[a-z]+"}, "ABC", "must match the pattern [a-z]+"),  # no Type: String
        ({"Type": "AWS::EC2::KeyPair::KeyName", "AllowedPattern": "x"}, "y", None),
    ],
)
def test_constraints_at_their_exact_bounds(declaration: dict, value: str, problem: str | None) -> None:
    assert constraint_problem(declaration, value) == problem


def test_noecho_values_are_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a NoEcho parameter (as YAML writes it, or as a string) and a value its constraint refuses
    for no_echo in (True, "true", "TRUE"):
        path = tmp_path / "t.json"
        path.write_text(_with_parameter({"Type": "String", "NoEcho": no_echo, "MinLength": 12}))
        # WHEN deploying THEN the parameter is named, its value is not
        err = _refused(capsys, _deploy_file(path, "--parameter-overrides", "Extra=hunter2"),
                       "parameter Extra (NoEcho): must be at least 12 characters")  # fmt: skip
        assert "hunter2" not in err
    # AND a parameter that is not NoEcho shows its value, to help
    path.write_text(_with_parameter({"Type": "String", "NoEcho": "false", "MinLength": 12}))
    _refused(capsys, _deploy_file(path, "--parameter-overrides", "Extra=hunter2"), "parameter Extra='hunter2'")


def test_template_file_is_read_no_further_than_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN /dev/zero (endless), a FIFO, and files of exactly the limit and one byte over
    _refused(capsys, _deploy_file(Path("/dev/zero")), "/dev/zero is not a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # so that opening it to read does not block
    try:
        _refused(capsys, _deploy_file(fifo), "is not a regular file")
    finally:
        os.close(writer)
    exact = queue_template()
    exact = exact[:-1] + " " * (TEMPLATE_URL_LIMIT - len(exact)) + "}"
    (tmp_path / "exact.json").write_text(exact)
    (tmp_path / "over.json").write_text(exact + " ")
    # THEN exactly 1,048,576 bytes is a template; 1,048,577 is refused naming its size
    assert StackTemplate.from_file(tmp_path / "exact.json").size == TEMPLATE_URL_LIMIT
    with pytest.raises(UsageError) as over:
        StackTemplate.from_file(tmp_path / "over.json")
    assert str(over.value) == (f"{tmp_path / 'over.json'} is over 1,048,576 bytes; CloudFormation accepts "
                               "at most 1,048,576 bytes (1 MB) even through S3")  # fmt: skip
    # AND text (a synthesized template) is measured exactly
    with pytest.raises(UsageError) as text_over:
        StackTemplate.from_text(exact + " ", "t")
    assert str(text_over.value) == "t is 1,048,577 bytes; CloudFormation accepts at most 1,048,576 bytes (1 MB) even through S3"


def test_body_limit_is_exactly_51200_bytes() -> None:
    base = queue_template()
    exact = base[:-1] + " " * (TEMPLATE_BODY_LIMIT - len(base)) + "}"
    assert StackTemplate.from_text(exact).size == TEMPLATE_BODY_LIMIT
    assert not StackTemplate.from_text(exact).needs_s3
    assert StackTemplate.from_text(exact + " ").needs_s3


def test_yaml_short_forms_map_to_their_long_forms() -> None:
    text = ("Conditions:\n  C: !Equals [a, b]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
            "      A: !GetAtt [T, Arn]\n      B: !If [C, x, y]\n      D: !Ref Name\n      E: !Sub {x: 1}\n")  # fmt: skip
    properties = StackTemplate.from_text(text).document["Resources"]["Q"]["Properties"]
    assert properties == {"A": {"Fn::GetAtt": ["T", "Arn"]}, "B": {"Fn::If": ["C", "x", "y"]},
                          "D": {"Ref": "Name"}, "E": {"Fn::Sub": {"x": 1}}}  # fmt: skip


def test_overlong_outputs_file_name_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    path.write_text(queue_template())
    _refused(capsys, _deploy_file(path, "--outputs-file", str(tmp_path / ("x" * 5000))),
             "--outputs-file", "File name too long")  # fmt: skip


def test_template_file_errors_name_the_file_and_the_reason(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as missing:
        StackTemplate.from_file(tmp_path / "nope.json")
    assert str(missing.value) == f"template file not found: {tmp_path / 'nope.json'}"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"Resources": {}, "x": "\xe9"}')
    with pytest.raises(UsageError, match=rf"^cannot read template file {latin}: 'utf-8' codec can't decode"):
        StackTemplate.from_file(latin)
    with pytest.raises(UsageError, match=rf"^cannot read template file {tmp_path}: \[Errno 21\] Is a directory"):
        StackTemplate.from_file(tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text("Resources:\n  Q: {Type: AWS::SQS::Queue}\n")
    template = StackTemplate.from_file(good)
    assert template.document == {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    with pytest.raises(UsageError, match=rf"^{good} is not valid JSON"):
        good.write_text('{"Resources": }')
        StackTemplate.from_file(good)


@pytest.mark.parametrize(
    "text",
    ['["Resources"]', '{"Resources": ["Q"]}', "{}", "just text", '{"Parameters": {}}'],
)
def test_documents_without_a_resources_mapping_are_not_templates(text: str) -> None:
    with pytest.raises(UsageError) as refused:
        StackTemplate.from_text(text, "t.json")
    assert str(refused.value) == "t.json is not a CloudFormation template (no Resources)"


def test_what_a_template_declares() -> None:
    text = json.dumps({
        "Parameters": {"B": {"Type": "String", "NoEcho": "True"}, "A": {"Type": "Number"}},
        "Resources": {"T2": {"Type": "AWS::DynamoDB::Table"}, "T1": {"Type": "AWS::DynamoDB::Table"},
                      "Q": {"Type": "AWS::SQS::Queue"}, "Odd": "not a resource"},
    })  # fmt: skip
    template = StackTemplate.from_text(text)
    assert template.parameters == frozenset({"A", "B"})
    assert template.resources_of_type("AWS::DynamoDB::Table") == ["T1", "T2"]
    assert template.no_echo("B") and not template.no_echo("A") and not template.no_echo("Missing")
    assert template.size == len(text.encode()) and template.sha256 == __import__("hashlib").sha256(text.encode()).hexdigest()
    assert StackTemplate.from_text('{"Resources": {}}').parameters == frozenset()
    assert StackTemplate.from_text('{"Resources": {}, "Parameters": null}').parameters == frozenset()
    # size counts UTF-8 bytes, as CloudFormation does
    assert StackTemplate.from_text('{"Resources": {}, "x": "é"}').size == len('{"Resources": {}, "x": "é"}') + 1


def test_unknown_parameters_are_listed_with_what_is_declared() -> None:
    template = StackTemplate.from_text(queue_template())
    with pytest.raises(UsageError) as refused:
        template.check_parameters({"Zeta": "1", "Alpha": "2", "QueueName": "q"})
    assert str(refused.value) == "the template declares no parameter Alpha, Zeta (declared: QueueName)"
    with pytest.raises(UsageError, match=r"declares no parameter X \(declared: A, B\)$"):
        StackTemplate.from_text('{"Resources": {}, "Parameters": {"B": {}, "A": {}}}').check_parameters({"X": "1"})
    bare = StackTemplate.from_text('{"Resources": {}}')
    with pytest.raises(UsageError, match=r"declares no parameter X \(declared: none\)$"):
        bare.check_parameters({"X": "1"})
    # values are checked in name order: the first bad one is reported, with its value
    two = StackTemplate.from_text(json.dumps({"Resources": {}, "Parameters": {
        "A": {"Type": "String", "MaxLength": 1}, "B": {"Type": "String", "MaxLength": 1}}}))  # fmt: skip
    with pytest.raises(UsageError) as bad:
        two.check_parameters({"B": "bb", "A": "aa"})
    assert str(bad.value) == "parameter A='aa': must be at most 1 characters"
    two.check_parameters({"A": "a", "B": ""})


def test_allowed_values_compare_as_cloudformation_reads_yaml() -> None:
    assert constraint_problem({"AllowedValues": [True, False]}, "true") is None
    assert constraint_problem({"AllowedValues": [True, False]}, "True") == "must be one of true, false"
    assert constraint_problem({"AllowedValues": [1, 2.5]}, "2.5") is None
    assert constraint_problem({"AllowedValues": "a"}, "b") is None  # not a list: CloudFormation's to refuse
    assert constraint_problem({"Type": "Number", "AllowedValues": [1]}, "x") == "must be one of 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A YAML reader error has no "problem" nor mark: its first line is the reason
        ("Resources:\n  Q: \x07\n", "template is neither JSON nor YAML: unacceptable character #x0007: "
                                      "special characters are not allowed"),
        # Leading blanks before "{": still meant as JSON
        ('  \n {"Resources": ', "template is not valid JSON: Expecting value: line 2 column 16 (char 18)"),
        ('{"Resources": {}, "Parameters": 3}', "template: Parameters must be a mapping of names to declarations"),
        ('{"Resources": {}, "Parameters": {"P": []}}', "template: parameter P must be a mapping (Type, Default...)"),
        ('[[[' * 40_000, "template is nested too deeply to be a template"),
    ],
)
def test_unreadable_text_is_named_by_its_origin_in_one_exact_line(text: str, message: str) -> None:
    # GIVEN text with no origin given (a synthesized template is "template")
    with pytest.raises(UsageError) as refused:
        StackTemplate.from_text(text)
    assert str(refused.value) == message
