"""CloudFormation support for the release resources in the embedded moto: what lets it host the template.

moto 5.2.5's CloudFormation publishes `AWS::Lambda::Version` (without its `Version` attribute)
and skips `AWS::Lambda::Alias`, `AWS::CodeDeploy::Application` and
`AWS::CodeDeploy::DeploymentGroup`: every `Ref` to them vanishes, and the Permissions and the
stream mapping on the alias fail the stack. `register()` adds models that create them through
moto's own Lambda and CodeDeploy backends, so the template deploys as written:

- a Version publishes the function (again on every update: all of its properties replace it),
  answers `Fn::GetAtt [V, Version]`, and moves the aliases of the version it replaces;
- an alias is created, moved on update and deleted with the stack;
- a published version gets the number after the highest ever published for the function, as
  Lambda numbers them (moto counts the versions left, so after the deploy prunes old ones it
  handed out a number that already exists);
- the CodeDeploy application and deployment groups exist (the deploy can look for deployments),
  but nothing drives them: `UpdatePolicy` is ignored, so an update moves the alias at once,
  as an all-at-once deployment would, and no canary or alarm rollback happens locally.

Only an emulator running in this process can be taught this (`python -m scripts.local`,
`--emulator-only`, the test suite's server); a bare `moto_server` cannot host the template.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaStorage, LambdaVersion
from moto.awslambda.utils import get_backend as lambda_backend
from moto.cloudformation import parsing
from moto.codedeploy.models import codedeploy_backends
from moto.core.common_models import CloudFormationModel

ALIAS_TYPE = "AWS::Lambda::Alias"
VERSION_TYPE = "AWS::Lambda::Version"
APPLICATION_TYPE = "AWS::CodeDeploy::Application"
DEPLOYMENT_GROUP_TYPE = "AWS::CodeDeploy::DeploymentGroup"


def _weights(props: dict[str, Any]) -> dict[str, float] | None:
    routing = props.get("RoutingConfig") or {}
    weights = routing.get("AdditionalVersionWeights") or []
    return {str(w["FunctionVersion"]): float(w["FunctionWeight"]) for w in weights} or None


class EmulatedVersion(LambdaVersion):
    """moto's published version, with the `Version` attribute and the version's ARN as its Ref."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedVersion:
        published = lambda_backend(account_id, region_name).publish_version(
            cloudformation_json["Properties"]["FunctionName"]
        )
        version = cls({"Version": published.version})
        version.physical_resource_id = published.function_arn
        return version

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> EmulatedVersion:  # fmt: skip
        # Every property of a Version requires replacement; the old one stays (Retain), as on AWS.
        version = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        # moto re-evaluates only resources whose own text or parameters changed, never one whose
        # `Fn::GetAtt [Version, Version]` did: move the aliases on the old version here, as
        # CloudFormation (and an all-at-once CodeDeploy deployment) would.
        backend = lambda_backend(account_id, region_name)
        function_name = cloudformation_json["Properties"]["FunctionName"]
        for alias in backend.list_aliases(function_name):
            if str(alias.function_version) == str(original_resource.version):
                backend.update_alias(alias.name, function_name, str(version.version), alias.description, None)
        return version

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Version"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """The version's number, as CloudFormation's `Fn::GetAtt [Version, Version]` gives it."""
        return str(self.version)


class _Emulated(CloudFormationModel):
    """What the emulated resources share: a physical id, no attributes, created at once."""

    def __init__(self, physical_resource_id: str) -> None:
        self.physical_resource_id = physical_resource_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def is_created(self) -> bool:
        return True


class EmulatedAlias(_Emulated):
    """An alias made by CloudFormation in moto's Lambda backend; its Ref is the alias ARN."""

    def __init__(self, arn: str, name: str, function_name: str) -> None:
        super().__init__(arn)
        self.name = name
        self.function_name = function_name

    @staticmethod
    def cloudformation_type() -> str:
        return ALIAS_TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "AliasArn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """The alias ARN (its only attribute)."""
        return self.physical_resource_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedAlias:
        props = cloudformation_json["Properties"]
        alias = lambda_backend(account_id, region_name).create_alias(
            name=props["Name"],
            function_name=props["FunctionName"],
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=_weights(props),
        )
        return cls(alias.arn, props["Name"], props["FunctionName"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: EmulatedAlias, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> EmulatedAlias:  # fmt: skip
        props = cloudformation_json["Properties"]
        if (props["Name"], props["FunctionName"]) != (original_resource.name, original_resource.function_name):
            cls.delete_from_cloudformation_json("", {"Properties": {
                "Name": original_resource.name, "FunctionName": original_resource.function_name}},
                account_id, region_name)  # fmt: skip
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        # What CodeDeploy's AllAtOnce leaves: the alias on the new version, no weights.
        lambda_backend(account_id, region_name).update_alias(
            name=props["Name"],
            function_name=props["FunctionName"],
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=_weights(props),
        )
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        props = cloudformation_json["Properties"]
        lambda_backend(account_id, region_name).delete_alias(props["Name"], props["FunctionName"])


class EmulatedApplication(_Emulated):
    """A CodeDeploy application in moto's backend, named as CloudFormation would (stack-logical-random)."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ApplicationName"

    @staticmethod
    def cloudformation_type() -> str:
        return APPLICATION_TYPE

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedApplication:
        props = cloudformation_json.get("Properties") or {}
        name = props.get("ApplicationName") or resource_name
        codedeploy_backends[account_id][region_name].create_application(
            name, props.get("ComputePlatform", "Server"), props.get("Tags") or []
        )
        return cls(name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: EmulatedApplication, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> EmulatedApplication:  # fmt: skip
        return original_resource  # tags only: nothing the local stack reads

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = codedeploy_backends[account_id][region_name]
        backend.applications.pop(resource_name, None)
        backend.deployment_groups.pop(resource_name, None)


class EmulatedDeploymentGroup(_Emulated):
    """A CodeDeploy deployment group in moto's backend (nothing deploys through it locally)."""

    def __init__(self, application: str, name: str) -> None:
        super().__init__(name)
        self.application = application

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DeploymentGroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return DEPLOYMENT_GROUP_TYPE

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> EmulatedDeploymentGroup:
        props = cloudformation_json["Properties"]
        application = props["ApplicationName"]
        name = props.get("DeploymentGroupName") or resource_name
        alarms = props.get("AlarmConfiguration") or {}
        codedeploy_backends[account_id][region_name].create_deployment_group(
            application_name=application,
            deployment_group_name=name,
            deployment_config_name=props.get("DeploymentConfigName"),
            ec2_tag_filters=None,
            on_premises_instance_tag_filters=None,
            auto_scaling_groups=None,
            service_role_arn=props.get("ServiceRoleArn", ""),
            alarm_configuration={
                "enabled": bool(alarms.get("Enabled", False)),
                # moto skips CloudWatch alarms: a Ref to one resolves to nothing.
                "alarms": [{"name": a["Name"]} for a in alarms.get("Alarms") or [] if a.get("Name")],
            },  # type: ignore[arg-type]
            deployment_style={
                "deploymentType": (props.get("DeploymentStyle") or {}).get("DeploymentType", ""),
                "deploymentOption": (props.get("DeploymentStyle") or {}).get("DeploymentOption", ""),
            },
            tags=props.get("Tags") or [],
        )
        return cls(application, name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: EmulatedDeploymentGroup, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> EmulatedDeploymentGroup:  # fmt: skip
        backend = codedeploy_backends[account_id][region_name]
        backend.deployment_groups.get(original_resource.application, {}).pop(original_resource.physical_resource_id, None)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = codedeploy_backends[account_id][region_name]
        application = cloudformation_json["Properties"]["ApplicationName"]
        backend.deployment_groups.get(application, {}).pop(resource_name, None)


def _numbered_as_lambda(publish: Any) -> Any:
    """moto's `LambdaStorage.publish_version`, numbering each new version after the highest ever issued."""
    if getattr(publish, "numbered_as_lambda", False):
        return publish

    def publish_version(self: LambdaStorage, name_or_arn: str, description: str = "") -> Any:
        published = publish(self, name_or_arn, description)
        if published is None:
            return None
        highest: dict[str, int] = self.__dict__.setdefault("_highest_version", {})
        name = published.function_name
        versions = self._functions[name]["versions"]
        if versions and versions[-1] is published and int(published.version) <= highest.get(name, 0):
            self._arns.pop(published.function_arn, None)
            published.set_version(highest[name] + 1)
            self._arns[published.function_arn] = published
        highest[name] = max(highest.get(name, 0), int(published.version))
        return published

    publish_version.numbered_as_lambda = True  # type: ignore[attr-defined]
    return publish_version


MODELS: dict[str, type[CloudFormationModel]] = {
    VERSION_TYPE: EmulatedVersion,
    ALIAS_TYPE: EmulatedAlias,
    APPLICATION_TYPE: EmulatedApplication,
    DEPLOYMENT_GROUP_TYPE: EmulatedDeploymentGroup,
}


def register() -> None:
    """Teach this process's moto CloudFormation the release resources (idempotent)."""
    models = parsing.get_model_map()  # cached by moto: the one map every stack operation reads
    models.update(MODELS)
    LambdaStorage.publish_version = _numbered_as_lambda(LambdaStorage.publish_version)  # type: ignore[method-assign]
    names = parsing.get_name_type_map()
    names.update({type_name: model.cloudformation_name_type() for type_name, model in MODELS.items()})
