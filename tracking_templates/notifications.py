"""The notification topic (stream notifications and alarms) and its optional email subscription."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub
from troposphere.sns import SubscriptionResource, Topic

from .encryption import Encryption
from .inputs import HAS_NOTIFICATION_EMAIL, Inputs, stack_tags
from .names import Resources


@dataclass(frozen=True, slots=True, kw_only=True)
class Notifications:
    """The encrypted topic and the email subscription that exists only with an address."""

    topic: Topic
    email_subscription: SubscriptionResource


def notifications(inputs: Inputs, enc: Encryption) -> Notifications:
    """A topic encrypted with the stack's key (the key policy lets alarms publish to it)."""
    topic = Topic(
        Resources.TOPIC,
        TopicName=Sub("tracking-notifications-${Environment}"),
        DisplayName="Logistics tracking",
        KmsMasterKeyId=GetAtt(enc.key, "Arn"),
        Tags=stack_tags(inputs),
    )
    subscription = SubscriptionResource(
        Resources.EMAIL_SUBSCRIPTION,
        Condition=HAS_NOTIFICATION_EMAIL,
        TopicArn=Ref(topic),
        Protocol="email",
        Endpoint=Ref(inputs.notification_email),
    )
    return Notifications(topic=topic, email_subscription=subscription)
