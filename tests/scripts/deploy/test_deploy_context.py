"""What every step shares: error fields read safely, hint commands for the same endpoint, fresh tokens."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from scripts.deploy.context import Context, error_code, error_message, token


@pytest.mark.parametrize(
    ("response", "code", "message"),
    [
        ({"Error": {"Code": "ValidationError", "Message": "Stack with id x does not exist"}}, "ValidationError",
         "Stack with id x does not exist"),
        ({"Error": {}}, "", ""),
        ({}, "", ""),  # an endpoint that answered with no error body at all
    ],
)  # fmt: skip
def test_error_code_and_message_are_empty_when_the_answer_has_none(response: dict, code: str, message: str) -> None:
    error = ClientError(response, "DescribeStacks")  # type: ignore[arg-type]
    assert (error_code(error), error_message(error)) == (code, message)


def test_hint_commands_reach_the_same_region_and_endpoint_quoted_for_a_shell() -> None:
    context = Context(None, cli_options=("--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:5000"))
    assert context.aws_command("describe-stack-events", "--stack-name", "my stack") == (
        "aws cloudformation describe-stack-events --stack-name 'my stack' --region eu-west-1 "
        "--endpoint-url http://127.0.0.1:5000"
    )
    assert Context(None).aws_command("rollback-stack") == "aws cloudformation rollback-stack"


def test_tokens_are_unique_and_fit_cloudformations_limit() -> None:
    tokens = {token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"deploy-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", t) for t in tokens)
