"""moto CloudFormation support for `AWS::Lambda::Alias` and a Version's attributes, for the template's moto tests.

moto 5.2.5 skips the alias (and CodeDeploy): every `Ref` to it vanishes and the stack fails on
the Permissions and the stream mapping; and its Version has no attributes (`Fn::GetAtt
[Version, Version]` fails the stack). This registers models that create the alias through
moto's own Lambda backend and answer the Version's number, so the template deploys as written
(CodeDeploy stays skipped: the alias simply points at the version, as an all-at-once
deployment would leave it).
The local emulator (scripts.local, issue 18's deploy half) carries the runtime counterpart;
when it lands, these tests should use that one.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaVersion
from moto.awslambda.utils import get_backend
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel


class EmulatedAlias(CloudFormationModel):
    """An alias made by CloudFormation in moto's Lambda backend; its Ref is the alias ARN."""

    def __init__(self, arn: str) -> None:
        self.physical_resource_id = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "AliasArn"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedAlias:
        props = cloudformation_json["Properties"]
        alias = get_backend(account_id, region_name).create_alias(
            name=props["Name"],
            function_name=props["FunctionName"],
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=None,
        )
        return cls(alias.arn)


class EmulatedVersion(LambdaVersion):
    """moto's published version, with the `Version` attribute and the version's ARN as its Ref."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedVersion:
        published = get_backend(account_id, region_name).publish_version(
            cloudformation_json["Properties"]["FunctionName"]
        )
        version = cls({"Version": published.version})
        version.physical_resource_id = published.function_arn
        return version

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Version"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """The version's number, as CloudFormation's `Fn::GetAtt [Version, Version]` gives it."""
        return str(self.version)


def register() -> None:
    """Make moto's CloudFormation create aliases and answer a Version's number (idempotent)."""
    models = parsing.get_model_map()
    models["AWS::Lambda::Alias"] = EmulatedAlias
    models["AWS::Lambda::Version"] = EmulatedVersion
