"""The template's CloudFormation Parameters (the few values one template leaves open) and tags."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSHelperFn, Equals, Not, Parameter, Ref, Tags

from .names import ENV_PATTERN, Params
from .settings import Settings

# S3 object keys and bucket names as AWS accepts them; cfn-lint checks S3Key/S3Bucket values.
_BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_KEY_PATTERN = r"^[^\s]{1,1024}$"
# Base64 of a 32-byte SHA-256 digest, as Lambda's CodeSha256 (and `openssl dgst -sha256 -binary | base64`).
CODE_SHA256_PATTERN = r"^[A-Za-z0-9+/]{43}=$"
# An S3 version id, or empty where the bucket keeps no versions (a local emulator).
_OBJECT_VERSION_PATTERN = r"^[^\s]{0,1024}$"
HAS_NOTIFICATION_EMAIL = "HasNotificationEmail"
HAS_CODE_OBJECT_VERSION = "HasCodeObjectVersion"
HAS_NOTIFIER_CODE_OBJECT_VERSION = "HasNotifierCodeObjectVersion"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """The Parameters, and the Condition derived from them."""

    environment: Parameter
    code_bucket: Parameter
    code_key: Parameter
    notifier_code_key: Parameter
    code_sha256: Parameter
    notifier_code_sha256: Parameter
    code_object_version: Parameter
    notifier_code_object_version: Parameter
    notification_email: Parameter
    has_notification_email: AWSHelperFn

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """All Parameters, in a fixed order."""
        return (self.environment, self.code_bucket, self.code_key, self.notifier_code_key, self.code_sha256,
                self.notifier_code_sha256, self.code_object_version, self.notifier_code_object_version,
                self.notification_email)

    @property
    def conditions(self) -> dict[str, AWSHelperFn]:
        """Condition name -> condition, derived from the Parameters."""
        return {
            HAS_NOTIFICATION_EMAIL: self.has_notification_email,
            HAS_CODE_OBJECT_VERSION: _not_empty(self.code_object_version),
            HAS_NOTIFIER_CODE_OBJECT_VERSION: _not_empty(self.notifier_code_object_version),
        }


def _not_empty(parameter: Parameter) -> AWSHelperFn:
    return Not(Equals(Ref(parameter), ""))


def _code_key(name: str, function: str) -> Parameter:
    return Parameter(name, Type="String", AllowedPattern=_KEY_PATTERN, Description=f"S3 key of {function}'s zip")


def _code_sha256(name: str, function: str) -> Parameter:
    return Parameter(
        name,
        Type="String",
        AllowedPattern=CODE_SHA256_PATTERN,
        ConstraintDescription="base64 of the zip's SHA-256 digest (44 characters), as Lambda's CodeSha256",
        Description=f"CodeSha256 of {function}'s zip: Lambda publishes a version only of exactly this code",
    )


def _code_object_version(name: str, function: str) -> Parameter:
    return Parameter(
        name,
        Type="String",
        AllowedPattern=_OBJECT_VERSION_PATTERN,
        Description=f"S3 object version of {function}'s zip (empty: the bucket keeps no versions)",
    )


def inputs(settings: Settings) -> Inputs:
    """The Parameters: the environment defaults to the one the template is generated for."""
    # Code locations, digests and object versions have no default: the deploy fills them from the
    # zips it built, and cfn-lint checks a default against the S3Key pattern (an empty one fails).
    notification_email = Parameter(
        Params.NOTIFICATION_EMAIL,
        Type="String",
        Default="",
        AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
        Description="Email address subscribed to status notifications and alarms (empty: none)",
    )
    return Inputs(
        environment=Parameter(
            Params.ENVIRONMENT,
            Type="String",
            Default=settings.env,
            AllowedPattern=ENV_PATTERN,
            Description="Environment name: used in resource names, the stage name and SSM paths",
        ),
        code_bucket=Parameter(
            Params.CODE_BUCKET,
            Type="String",
            AllowedPattern=_BUCKET_PATTERN,
            Description="S3 bucket holding both functions' zips",
        ),
        code_key=_code_key(Params.CODE_KEY, "the tracking API function"),
        notifier_code_key=_code_key(Params.NOTIFIER_CODE_KEY, "the status notifier function"),
        code_sha256=_code_sha256(Params.CODE_SHA256, "the tracking API function"),
        notifier_code_sha256=_code_sha256(Params.NOTIFIER_CODE_SHA256, "the status notifier function"),
        code_object_version=_code_object_version(Params.CODE_OBJECT_VERSION, "the tracking API function"),
        notifier_code_object_version=_code_object_version(
            Params.NOTIFIER_CODE_OBJECT_VERSION, "the status notifier function"
        ),
        notification_email=notification_email,
        has_notification_email=_not_empty(notification_email),
    )


def stack_tags(inputs_: Inputs) -> Tags:
    """The tags every taggable resource carries."""
    return Tags(Project="LogisticsTracking", Environment=Ref(inputs_.environment), ManagedBy="CloudFormation")
