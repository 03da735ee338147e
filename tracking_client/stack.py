"""The API's URL from a CloudFormation stack's outputs."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError as BotocoreClientError

from .errors import ConfigurationError

# The template's Output of the stage's base URL (tracking_templates.names.Outputs.API_ENDPOINT;
# a test holds the two equal: this package must not import the generator and its troposphere).
API_ENDPOINT_OUTPUT = "ApiEndpoint"


def api_url_from_stack(session: Any, stack_name: str, region: str | None = None, endpoint_url: str | None = None) -> str:
    """The `ApiEndpoint` output of STACK_NAME; a missing stack or output is a ConfigurationError."""
    kwargs: dict[str, Any] = {"region_name": region}
    if endpoint_url:  # else botocore honours AWS_ENDPOINT_URL itself
        kwargs["endpoint_url"] = endpoint_url
    make = getattr(session, "create_client", None) or session.client  # botocore or boto3 session
    try:
        cloudformation = make("cloudformation", **kwargs)
    except ValueError as error:  # a malformed endpoint URL or region
        raise ConfigurationError(str(error)) from None
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except BotocoreClientError as error:
        # CloudFormation has no dedicated code for a missing stack: ValidationError, "does not exist".
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            raise ConfigurationError(f"stack {stack_name}: {error.response['Error'].get('Message', error)}") from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if API_ENDPOINT_OUTPUT not in outputs:
        raise ConfigurationError(f"stack {stack_name} has no {API_ENDPOINT_OUTPUT} output (pass --url)")
    return outputs[API_ENDPOINT_OUTPUT]
