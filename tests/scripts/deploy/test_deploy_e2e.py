"""End to end over real HTTP: deploy.main against the moto server with --endpoint-url."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import boto3
import pytest

from scripts.aws import ApiCallCounter
from scripts.deploy import command as deploy
from scripts.deploy.project import DeployOptions, deploy_stack, synthesize
from scripts.deploy.protection import ALLOW_ALL_POLICY
from tracking_templates.names import Params, Resources

from ..deploy_support import FAST, aws_for, client, queue_template

pytestmark = [
    pytest.mark.slow,
    # moto warns about each resource type it skips (alarms, stage, model...); known, see MOTO.md.
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
]


def _deploy(endpoint: str, tmp_path: Path, *extra: str) -> int:
    return deploy.main(
        ["--endpoint-url", endpoint, "--region", "us-east-1", "--output-dir", str(tmp_path / "build"), *extra],
        polling=FAST,
    )


def _physical_id(endpoint: str, stack: str, logical_id: str) -> str:
    # moto fails DescribeStackResource on stacks with resources it skipped; the list works.
    resources = client(endpoint, "cloudformation").describe_stack_resources(StackName=stack)
    [match] = [r for r in resources["StackResources"] if r.get("LogicalResourceId") == logical_id]
    return match["PhysicalResourceId"]


def _deployed_queue_stack(endpoint: str, tmp_path: Path, *extra: str) -> list[str]:
    """Deploy the one-queue template as stack "shop" into bucket "artifacts"; return the args."""
    client(endpoint, "s3").create_bucket(Bucket="artifacts")
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    args = ["--stack-name", "shop", "--bucket", "artifacts", "--template-file", str(template), *extra]
    assert _deploy(endpoint, tmp_path, *args) == 0
    return args


def _b64_sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_first_deploy_creates_the_stack_with_its_table_and_functions_from_uploaded_code(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an empty account (no bootstrap stack, no app stack)
    outputs_file = tmp_path / "outputs.json"
    # WHEN deploying the project's real template for env "dev"
    code = _deploy(moto_endpoint, tmp_path, "--stack-name", "tracking-dev", "--no-deps",
                   "--outputs-file", str(outputs_file))  # fmt: skip
    # THEN the artifact bucket was bootstrapped and the stack created
    assert code == 0
    cfn = client(moto_endpoint, "cloudformation")
    assert cfn.describe_stacks(StackName="tracking-bootstrap")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    stack = cfn.describe_stacks(StackName="tracking-dev")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params[Params.ENVIRONMENT] == "dev"
    # AND the table exists
    table = _physical_id(moto_endpoint, "tracking-dev", Resources.TABLE)
    assert table in client(moto_endpoint, "dynamodb").list_tables()["TableNames"]
    # AND each function runs the zip that was built and uploaded (content-addressed key)
    lam = client(moto_endpoint, "lambda")
    for logical_id, zip_name, key_param in (
        (Resources.API_FUNCTION, "tracking.zip", Params.CODE_KEY),
        (Resources.NOTIFIER_FUNCTION, "notifier.zip", Params.NOTIFIER_CODE_KEY),
    ):
        built = tmp_path / "build" / zip_name
        function = lam.get_function(FunctionName=_physical_id(moto_endpoint, "tracking-dev", logical_id))
        assert function["Configuration"]["CodeSha256"] == _b64_sha256(built)
        assert params[key_param] == f"tracking-dev/{hashlib.sha256(built.read_bytes()).hexdigest()}.zip"
        client(moto_endpoint, "s3").head_object(Bucket=params[Params.CODE_BUCKET], Key=params[key_param])
    # AND the plan was printed as a table before executing, and the outputs file written
    out = capsys.readouterr().out
    assert "Action" in out and "AWS::DynamoDB::Table" in out and Resources.TABLE in out
    assert json.loads(outputs_file.read_text()) == {
        o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])
    }


def test_second_deploy_changes_nothing_and_uploads_nothing(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a deployed stack
    options = DeployOptions(stack_name="tracking-dev", bundle_deps=False,
                            output_dir=tmp_path / "build", polling=FAST)  # fmt: skip
    assert deploy_stack(options, aws_for(moto_endpoint)).outcome == "deployed"
    capsys.readouterr()
    # WHEN deploying the same sources again, counting every API call
    session = boto3.Session(region_name="us-east-1")
    counter = ApiCallCounter(session)
    result = deploy_stack(options, aws_for(moto_endpoint, session))
    # THEN nothing is uploaded, no stack changes, and the user is told so
    assert result.outcome == "no-changes"
    assert counter.count("PutObject") == 0
    assert counter.count("ExecuteChangeSet") == counter.count("UpdateStack") == 0
    # AND only the calls the work needs were made (see docs/deploy.md for why each one)
    expected = {
        ("cloudformation", "DescribeStacks"): 2,  # bootstrap stack, then the app stack
        ("cloudformation", "DescribeStackResource"): 1,  # the artifact bucket's name
        ("s3", "HeadObject"): 2 + (1 if synthesize("dev").needs_s3 else 0),  # zips (+ template)
        ("cloudformation", "ListStackResources"): 1,  # the alarms the stack has: rollback triggers
        ("cloudformation", "CreateChangeSet"): 1,  # moto: "No updates are to be performed."
        ("cloudformation", "GetStackPolicy"): 1,  # the tables' policy, checked on every deploy
    }
    assert dict(counter.calls) == expected
    assert "No changes to deploy" in capsys.readouterr().out
    summaries = client(moto_endpoint, "cloudformation").list_change_sets(StackName="tracking-dev")["Summaries"]
    assert [s for s in summaries if s["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []
    # AND a stack whose policy was lost (set to allow everything) gets it back from a deploy
    # with nothing to change; --fail-on-empty-changeset turns "nothing to do" into exit 1
    cfn = client(moto_endpoint, "cloudformation")
    protective = cfn.get_stack_policy(StackName="tracking-dev")["StackPolicyBody"]
    cfn.set_stack_policy(StackName="tracking-dev", StackPolicyBody=ALLOW_ALL_POLICY)
    code = _deploy(moto_endpoint, tmp_path, "--stack-name", "tracking-dev", "--no-deps",
                   "--fail-on-empty-changeset")  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "Stack policy of tracking-dev was not the template's: set again" in out
    assert "Deny" in protective and cfn.get_stack_policy(StackName="tracking-dev")["StackPolicyBody"] == protective


def test_changed_code_uploads_only_that_zip_and_updates_the_function(
    moto_endpoint: str, tmp_path: Path
) -> None:
    # GIVEN a stack deployed from a copy of the functions
    from tracking_templates.sources import FUNCTIONS_DIR

    functions = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    options = DeployOptions(stack_name="tracking-dev", bundle_deps=False, functions_dir=functions,
                            output_dir=tmp_path / "build", polling=FAST)  # fmt: skip
    assert deploy_stack(options, aws_for(moto_endpoint)).outcome == "deployed"
    notifier_before = (tmp_path / "build" / "notifier.zip").read_bytes()
    # WHEN the API handler changes and the stack is deployed again
    with (functions / "tracking" / "handler.py").open("a") as handler:
        handler.write("\n# a change\n")
    session = boto3.Session(region_name="us-east-1")
    counter = ApiCallCounter(session)
    result = deploy_stack(options, aws_for(moto_endpoint, session))
    # THEN exactly one zip is uploaded and the stack updated, with the API function on new code
    assert (result.outcome, result.status) == ("deployed", "UPDATE_COMPLETE")
    assert counter.count("PutObject") == 1 and counter.count("ExecuteChangeSet") == 1
    assert (tmp_path / "build" / "notifier.zip").read_bytes() == notifier_before
    function = client(moto_endpoint, "lambda").get_function(
        FunctionName=_physical_id(moto_endpoint, "tracking-dev", Resources.API_FUNCTION)
    )
    assert function["Configuration"]["CodeSha256"] == _b64_sha256(tmp_path / "build" / "tracking.zip")


def test_reformatted_template_is_the_failed_form_of_no_changes(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a deployed stack and the same template re-indented (different text, same meaning)
    args = _deployed_queue_stack(moto_endpoint, tmp_path, "--parameter-overrides", "QueueName=orders")
    (tmp_path / "t.json").write_text(json.dumps(json.loads(queue_template())))
    capsys.readouterr()
    # WHEN deploying it
    code = _deploy(moto_endpoint, tmp_path, *args)
    # THEN CloudFormation's FAILED "didn't contain changes" change set means no changes, deleted
    assert code == 0
    assert "No changes to deploy. Stack shop" in capsys.readouterr().out
    summaries = client(moto_endpoint, "cloudformation").list_change_sets(StackName="shop")["Summaries"]
    assert [s for s in summaries if s["Status"] == "FAILED"] == []


def test_no_execute_leaves_an_executable_change_set_and_changes_nothing(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a deployed one-queue stack and a new version of its template adding an SSM parameter
    _deployed_queue_stack(moto_endpoint, tmp_path)
    document = json.loads(queue_template())
    document["Resources"]["Setting"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/shop/setting", "Type": "String", "Value": "on"},
    }
    second = tmp_path / "v2.json"
    second.write_text(json.dumps(document))
    capsys.readouterr()
    # WHEN deploying it with --no-execute
    code = _deploy(moto_endpoint, tmp_path, "--stack-name", "shop", "--bucket", "artifacts",
                   "--template-file", str(second), "--no-execute")  # fmt: skip
    # THEN the plan is shown, nothing changed, and the change set waits, executable
    assert code == 0
    assert "AWS::SSM::Parameter" in capsys.readouterr().out
    ssm = client(moto_endpoint, "ssm")
    assert ssm.get_parameters(Names=["/shop/setting"])["InvalidParameters"] == ["/shop/setting"]
    cfn = client(moto_endpoint, "cloudformation")
    [summary] = [
        s for s in cfn.list_change_sets(StackName="shop")["Summaries"]
        if s["ExecutionStatus"] != "EXECUTE_COMPLETE"
    ]
    assert summary["ExecutionStatus"] == "AVAILABLE"
    # AND executing it later applies the change
    cfn.execute_change_set(ChangeSetName=summary["ChangeSetId"])
    assert ssm.get_parameter(Name="/shop/setting")["Parameter"]["Value"] == "on"


def test_deploy_after_a_no_execute_create_creates_the_stack(moto_endpoint: str, tmp_path: Path) -> None:
    # GIVEN a new stack planned with --no-execute (left in REVIEW_IN_PROGRESS)
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = tmp_path / "t.json"
    template.write_text(queue_template())
    args = ["--stack-name", "fresh", "--bucket", "artifacts", "--template-file", str(template)]
    assert _deploy(moto_endpoint, tmp_path, *args, "--no-execute") == 0
    cfn = client(moto_endpoint, "cloudformation")
    assert cfn.describe_stacks(StackName="fresh")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    # WHEN deploying it for real
    session = boto3.Session(region_name="us-east-1")
    result = deploy_stack(
        DeployOptions(stack_name="fresh", template_file=template, bucket="artifacts", polling=FAST),
        aws_for(moto_endpoint, session),
    )
    # THEN a CREATE change set is executed and the stack it made is followed by id to completion
    assert (result.outcome, result.status) == ("deployed", "CREATE_COMPLETE")
    assert result.change_set is not None and result.change_set.change_set_type == "CREATE"
    assert cfn.describe_stacks(StackName=result.stack_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_template_over_51200_bytes_travels_through_s3(moto_endpoint: str, tmp_path: Path) -> None:
    # GIVEN a template too big for TemplateBody
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    big = tmp_path / "big.json"
    big.write_text(queue_template(padding=60_000))
    assert big.stat().st_size > 51_200
    session = boto3.Session(region_name="us-east-1")
    sent: list[dict] = []
    session.events.register(
        "provide-client-params.cloudformation.CreateChangeSet", lambda params, **_: sent.append(dict(params))
    )
    # WHEN deploying it
    result = deploy_stack(
        DeployOptions(stack_name="big", template_file=big, bucket="artifacts", polling=FAST),
        aws_for(moto_endpoint, session),
    )
    # THEN the change set referenced an uploaded copy, and the stack was created from it
    assert result.outcome == "deployed"
    [params] = sent
    assert "TemplateBody" not in params
    key = f"big/templates/{hashlib.sha256(big.read_bytes()).hexdigest()}.json"
    assert params["TemplateURL"] == f"https://artifacts.s3.us-east-1.amazonaws.com/{key}"
    body = client(moto_endpoint, "s3").get_object(Bucket="artifacts", Key=key)["Body"].read()
    assert body == big.read_bytes()
    assert client(moto_endpoint, "sqs").get_queue_url(QueueName="orders")["QueueUrl"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack-name", "1-bad_name"], "invalid stack name"),
        (["--stack-name", "ok\n"], "invalid stack name"),
        (["--stack-name", "ok", "--bootstrap-stack", "boot\n"], "invalid stack name"),
        (["--stack-name", "ok", "--env", "Prod!"], "invalid --env"),
        (["--stack-name", "ok", "--env", "dev\n"], "invalid --env"),
        (["--stack-name", "ok", "--parameter-overrides", "NoEquals"], "expected KEY=VALUE"),
        (["--stack-name", "ok", "--parameter-overrides", "Unknown=1"], "declares no parameter Unknown"),
        (["--stack-name", "ok", "--template-file", "missing.json"], "template file not found"),
        (["--stack-name", "ok", "--template-file", "huge.json"], "at most 1,048,576 bytes"),
        (["--stack-name", "ok", "--tags", "=v"], "expected KEY=VALUE"),
        (["--stack-name", "ok", "--tags", "aws:owner=me"], "invalid key 'aws:owner'"),
        (["--stack-name", "ok", "--tags", "team="], "the value must be 1 to 256 characters"),
        (["--stack-name", "ok", "--tags", *(f"k{i}=v" for i in range(51))], "at most 50"),
    ],
)
def test_usage_errors_exit_2_with_one_line_before_any_call(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # GIVEN a small template, a too-large one, and an endpoint where nothing listens
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.json").write_text(queue_template())
    (tmp_path / "huge.json").write_text(queue_template(padding=1_100_000))
    if "--template-file" not in args:
        args = [*args, "--template-file", "small.json"]
    # WHEN deploying with bad input
    code = deploy.main([*args, "--endpoint-url", "http://127.0.0.1:9"], polling=FAST)
    # THEN exit 2, one line on stderr naming the problem, no traceback
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_credentials_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no credentials anywhere
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "t.json").write_text(queue_template())
    # WHEN deploying
    code = deploy.main(["--stack-name", "ok", "--template-file", str(tmp_path / "t.json"),
                        "--endpoint-url", "http://127.0.0.1:9"], polling=FAST)  # fmt: skip
    # THEN exit 2 with one line
    err = capsys.readouterr().err
    assert code == 2 and "no AWS credentials" in err and len(err.strip().splitlines()) == 1


def test_missing_stack_name_is_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN / WHEN deploy without --stack-name
    with pytest.raises(SystemExit) as exit_info:
        deploy.main(["--env", "dev"])
    # THEN argparse exits 2 and says what is missing
    assert exit_info.value.code == 2
    assert "--stack-name" in capsys.readouterr().err


def _sent_environment(endpoint: str, options: DeployOptions) -> list[dict]:
    """Deploy; return the Environment entries of the CreateChangeSet request."""
    session = boto3.Session(region_name="us-east-1")
    sent: list[dict] = []
    session.events.register(
        "provide-client-params.cloudformation.CreateChangeSet",
        lambda params, **_: sent.extend(p for p in params["Parameters"] if p["ParameterKey"] == Params.ENVIRONMENT),
    )
    deploy_stack(options, aws_for(endpoint, session))
    return sent


def test_template_file_keeps_its_own_environment_unless_env_is_given(moto_endpoint: str, tmp_path: Path) -> None:
    # GIVEN a template written for env "qa" (its Environment parameter defaults to qa)
    client(moto_endpoint, "s3").create_bucket(Bucket="artifacts")
    template = tmp_path / "qa.json"
    template.write_text(queue_template(**{Params.ENVIRONMENT: "qa"}))
    options = DeployOptions(stack_name="qa-stack", template_file=template, bucket="artifacts", polling=FAST)
    # WHEN it is deployed with no --env
    sent = _sent_environment(moto_endpoint, options)
    # THEN the deploy does not force "dev" on it: the template's default applies
    assert sent == []
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName="qa-stack")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}[Params.ENVIRONMENT] == "qa"
    # AND an explicit --env still fills it (on a stack of its own: a live stack keeps its env)
    explicit = DeployOptions(stack_name="qa2-stack", env="qa2", template_file=template, bucket="artifacts",
                             polling=FAST)  # fmt: skip
    assert _sent_environment(moto_endpoint, explicit) == [{"ParameterKey": Params.ENVIRONMENT, "ParameterValue": "qa2"}]
    # AND the CLI without --env behaves like the library (an update keeps the previous value)
    (tmp_path / "qa.json").write_text(queue_template("orders-v2", **{Params.ENVIRONMENT: "other"}))
    code = _deploy(moto_endpoint, tmp_path, "--stack-name", "qa2-stack", "--bucket", "artifacts",
                   "--template-file", str(template))  # fmt: skip
    assert code == 0
    stack = client(moto_endpoint, "cloudformation").describe_stacks(StackName="qa2-stack")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}[Params.ENVIRONMENT] == "qa2"
