"""Stateful storage: the tracking table, the shipments' current state, idempotency keys and the dead-letter queue."""

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
    TimeToLiveSpecification,
)
from troposphere.sqs import Queue

from . import sources
from .encryption import Encryption
from .inputs import Inputs, stack_tags
from .names import STATE_INDEX, Resources
from .settings import Settings

DLQ_RETENTION_S = 14 * 24 * 3600
DLQ_VISIBILITY_TIMEOUT_S = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    """The tracking table (with its stream), the state table, the idempotency table and the dead-letter queue."""

    table: Table
    state_table: Table
    idempotency_table: Table
    dlq: Queue


def _retained(resource):
    # A template change must never drop data: neither deleting nor replacing loses it.
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def _data_protection(settings: Settings, inputs: Inputs, enc: Encryption) -> dict:
    # What every table gets: point-in-time recovery, the stack's key, tags, deletion protection.
    return dict(
        BillingMode="PAY_PER_REQUEST",
        PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(PointInTimeRecoveryEnabled=True),
        SSESpecification=SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(enc.key, "Arn")),
        DeletionProtectionEnabled=settings.table_deletion_protection,
        Tags=stack_tags(inputs),
    )


def _state_table(settings: Settings, inputs: Inputs, enc: Encryption) -> Table:
    """One item per shipment (its latest update), listed by status through a write-sharded index.

    The index's partition key is "<status>#<shard>" (settings.listing_shards per status), so no
    key holds a whole status; its sort key ranks by the update's time. The projection writes it
    from the tracking table's stream; see docs/scale.md.
    """
    keys = sources.listing_sharding()
    return Table(
        Resources.STATE_TABLE,
        AttributeDefinitions=[
            AttributeDefinition(AttributeName="tracking_id", AttributeType="S"),
            AttributeDefinition(AttributeName=keys.SHARD_ATTRIBUTE, AttributeType="S"),
            AttributeDefinition(AttributeName=keys.RANK_ATTRIBUTE, AttributeType="N"),
        ],
        KeySchema=[KeySchema(AttributeName="tracking_id", KeyType="HASH")],
        GlobalSecondaryIndexes=[
            GlobalSecondaryIndex(
                IndexName=STATE_INDEX,
                KeySchema=[
                    KeySchema(AttributeName=keys.SHARD_ATTRIBUTE, KeyType="HASH"),
                    KeySchema(AttributeName=keys.RANK_ATTRIBUTE, KeyType="RANGE"),
                ],
                # A page is served from the index alone (no GetItem per shipment).
                Projection=Projection(ProjectionType="ALL"),
            )
        ],
        **_data_protection(settings, inputs, enc),
    )


def _idempotency_table(settings: Settings, inputs: Inputs, enc: Encryption) -> Table:
    """POST /track's Idempotency-Key records (powertools' layout): the key's first answer, expiring by TTL.

    Protected like the other tables: a lost record within its 24 h lets a client's retry store
    an update twice.
    """
    contract = sources.idempotency_contract()
    return Table(
        Resources.IDEMPOTENCY_TABLE,
        AttributeDefinitions=[AttributeDefinition(AttributeName=contract.KEY_ATTRIBUTE, AttributeType="S")],
        KeySchema=[KeySchema(AttributeName=contract.KEY_ATTRIBUTE, KeyType="HASH")],
        # Records are stale after their window; TTL deletes them for free (writes are not billed).
        TimeToLiveSpecification=TimeToLiveSpecification(AttributeName=contract.EXPIRY_ATTRIBUTE, Enabled=True),
        **_data_protection(settings, inputs, enc),
    )


def storage(settings: Settings, inputs: Inputs, enc: Encryption) -> Storage:
    """The table keyed by shipment and time (with a stream), the state table, the idempotency table, the DLQ."""
    table = Table(
        Resources.TABLE,
        AttributeDefinitions=[
            AttributeDefinition(AttributeName="tracking_id", AttributeType="S"),
            AttributeDefinition(AttributeName="timestamp", AttributeType="N"),
        ],
        KeySchema=[
            KeySchema(AttributeName="tracking_id", KeyType="HASH"),
            KeySchema(AttributeName="timestamp", KeyType="RANGE"),
        ],
        StreamSpecification=StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        **_data_protection(settings, inputs, enc),
    )
    dlq = Queue(
        Resources.DLQ,
        QueueName=Sub("tracking-dlq-${Environment}"),
        MessageRetentionPeriod=DLQ_RETENTION_S,
        VisibilityTimeout=DLQ_VISIBILITY_TIMEOUT_S,
        KmsMasterKeyId=GetAtt(enc.key, "Arn"),
        Tags=stack_tags(inputs),
    )
    return Storage(
        table=_retained(table),
        state_table=_retained(_state_table(settings, inputs, enc)),
        idempotency_table=_retained(_idempotency_table(settings, inputs, enc)),
        dlq=_retained(dlq),
    )
