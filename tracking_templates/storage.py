"""Stateful storage: the tracking table and the dead-letter queue."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Sub
from troposphere.dynamodb import (
    AttributeDefinition,
    GlobalSecondaryIndex,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    SSESpecification,
    StreamSpecification,
    Table,
)
from troposphere.sqs import Queue

from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .names import STATUS_INDEX, Resources
from .settings import Settings

DLQ_RETENTION_S = 14 * 24 * 3600
DLQ_VISIBILITY_TIMEOUT_S = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    """The table (with its stream) and the dead-letter queue."""

    table: Table
    dlq: Queue


def _retained(resource):
    # A template change must never drop data: neither deleting nor replacing loses it.
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def storage(settings: Settings, inputs: Inputs, enc: Encryption) -> Storage:
    """The table keyed by shipment and time, with a status index and a stream, and the DLQ."""
    table = Table(
        Resources.TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            AttributeDefinition(AttributeName="tracking_id", AttributeType="S"),
            AttributeDefinition(AttributeName="timestamp", AttributeType="N"),
            AttributeDefinition(AttributeName="status", AttributeType="S"),
        ],
        KeySchema=[
            KeySchema(AttributeName="tracking_id", KeyType="HASH"),
            KeySchema(AttributeName="timestamp", KeyType="RANGE"),
        ],
        GlobalSecondaryIndexes=[
            GlobalSecondaryIndex(
                IndexName=STATUS_INDEX,
                KeySchema=[
                    KeySchema(AttributeName="status", KeyType="HASH"),
                    KeySchema(AttributeName="timestamp", KeyType="RANGE"),
                ],
                Projection=Projection(ProjectionType="ALL"),
            )
        ],
        StreamSpecification=StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(PointInTimeRecoveryEnabled=True),
        SSESpecification=SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(enc.key, "Arn")),
        DeletionProtectionEnabled=settings.table_deletion_protection,
        Tags=stack_tags(inputs),
    )
    dlq = Queue(
        Resources.DLQ,
        QueueName=Sub("tracking-dlq-${Environment}"),
        MessageRetentionPeriod=DLQ_RETENTION_S,
        VisibilityTimeout=DLQ_VISIBILITY_TIMEOUT_S,
        KmsMasterKeyId=GetAtt(enc.key, "Arn"),
        Tags=stack_tags(inputs),
    )
    return Storage(table=_retained(table), dlq=_retained(dlq))
