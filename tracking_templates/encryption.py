"""The customer-managed KMS key that encrypts the table, queue, topic, logs and Lambda settings."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Allow, ArnLike, Condition, Policy, Principal, Statement, StringEquals
from awacs import kms as kms_actions
from troposphere import Sub
from troposphere.kms import Key

from .inputs import Inputs
from .names import Resources

ROOT_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


@dataclass(frozen=True, slots=True, kw_only=True)
class Encryption:
    """The key (one per stack: its policy names the services that may use it)."""

    key: Key


def _key_policy() -> Policy:
    # The account root delegates use of the key to IAM policies (the functions' roles);
    # the services below encrypt on their own behalf, so the key policy must name them.
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="AccountAdministersTheKeyThroughIam",
                Effect=Allow,
                Principal=Principal("AWS", Sub(ROOT_ARN)),
                Action=[kms_actions.Action("*")],
                Resource=["*"],
            ),
            Statement(
                Sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                Effect=Allow,
                # Regional principal: its domain is the partition's (amazonaws.com.cn in China).
                Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
                Action=[kms_actions.Encrypt, kms_actions.Decrypt, kms_actions.ReEncryptFrom, kms_actions.ReEncryptTo,
                        kms_actions.GenerateDataKey, kms_actions.GenerateDataKeyWithoutPlaintext,
                        kms_actions.DescribeKey],
                Resource=["*"],
                Condition=Condition(
                    ArnLike(
                        "kms:EncryptionContext:aws:logs:arn",
                        Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
                    )
                ),
            ),
            Statement(
                # Alarms publish to the encrypted topic as the CloudWatch service.
                Sid="CloudWatchAlarmsPublishToTheEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
                Resource=["*"],
                Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
            ),
        ],
    )


def encryption(inputs: Inputs) -> Encryption:
    """A rotating symmetric key for everything the stack stores."""
    return Encryption(
        key=Key(
            Resources.KEY,
            Description=Sub("logistics-tracking ${Environment}: table, queue, topic, logs, Lambda settings"),
            EnableKeyRotation=True,
            KeyPolicy=_key_policy(),
            PendingWindowInDays=30,
            # Untagged: moto 5.2 reads CloudFormation's Key/Value tags as KMS's TagKey/TagValue
            # and fails; the stack's own tags reach the key anyway.
            # Retained data (the table, kept log groups) is unreadable without its key.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
