"""The template's CloudFormation Parameters (the few values one template leaves open) and tags."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSHelperFn, Equals, Not, Parameter, Ref, Tags

from .names import ENV_PATTERN, Params
from .settings import Settings

# S3 object keys and bucket names as AWS accepts them; cfn-lint checks S3Key/S3Bucket values.
_BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_KEY_PATTERN = r"^[^\s]{1,1024}$"
HAS_NOTIFICATION_EMAIL = "HasNotificationEmail"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """The Parameters, and the Condition derived from them."""

    environment: Parameter
    code_bucket: Parameter
    code_key: Parameter
    notifier_code_key: Parameter
    notification_email: Parameter
    has_notification_email: AWSHelperFn

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """All Parameters, in a fixed order."""
        return (self.environment, self.code_bucket, self.code_key, self.notifier_code_key, self.notification_email)


def _code_key(name: str, function: str) -> Parameter:
    return Parameter(name, Type="String", AllowedPattern=_KEY_PATTERN, Description=f"S3 key of {function}'s zip")


def inputs(settings: Settings) -> Inputs:
    """The Parameters: the environment defaults to the one the template is generated for."""
    # Code locations have no default: the deploy fills them, and cfn-lint checks a default
    # against the S3Key pattern (an empty one fails).
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
        notification_email=notification_email,
        has_notification_email=Not(Equals(Ref(notification_email), "")),
    )


def stack_tags(inputs_: Inputs) -> Tags:
    """The tags every taggable resource carries."""
    return Tags(Project="LogisticsTracking", Environment=Ref(inputs_.environment), ManagedBy="CloudFormation")
