"""Small pure functions returning least-privilege awacs Statements; the roles compose them."""

from __future__ import annotations

from awacs import awslambda, cloudwatch, dynamodb, kms, logs, sns, sqs, ssm, sts, xray
from awacs.aws import Allow, Policy, Principal, Statement
from troposphere import GetAtt, Ref, Sub
from troposphere.awslambda import Function
from troposphere.cloudwatch import Alarm
from troposphere.dynamodb import Table
from troposphere.kms import Key
from troposphere.logs import LogGroup
from troposphere.sns import Topic
from troposphere.sqs import Queue
from troposphere.ssm import Parameter as SsmParameter

from .names import LIVE_ALIAS


def assumed_by(service: str) -> Policy:
    """A trust policy: only this AWS service may assume the role."""
    return Policy(
        Version="2012-10-17",
        Statement=[Statement(Effect=Allow, Principal=Principal("Service", service), Action=[sts.AssumeRole])],
    )


def table_put_and_query(table: Table) -> Statement:
    """Write updates to the table and query it (no Scan, no deletes, no index)."""
    return Statement(
        Sid="TableWriteAndQuery",
        Effect=Allow,
        Action=[dynamodb.PutItem, dynamodb.Query],
        Resource=[GetAtt(table, "Arn")],
    )


def index_query(table: Table, index_name: str) -> Statement:
    """Query one index of a table (its ARN, not index/*; the table itself stays unreadable)."""
    return Statement(
        Sid="IndexQuery",
        Effect=Allow,
        Action=[dynamodb.Query],
        Resource=[Sub("${Table}/index/" + index_name, Table=GetAtt(table, "Arn"))],
    )


def idempotency_records(table: Table) -> Statement:
    """What powertools' idempotency layer does to its records: claim, read, complete, release."""
    return Statement(
        Sid="IdempotencyRecords",
        Effect=Allow,
        Action=[dynamodb.PutItem, dynamodb.GetItem, dynamodb.UpdateItem, dynamodb.DeleteItem],
        Resource=[GetAtt(table, "Arn")],
    )


def state_write(table: Table) -> Statement:
    """Put items into the state table (conditional puts only need PutItem): no reads, no deletes."""
    return Statement(Sid="StateWrite", Effect=Allow, Action=[dynamodb.PutItem], Resource=[GetAtt(table, "Arn")])


def stream_read(table: Table) -> Statement:
    """Read this table's stream (what the event source mapping does as the function's role)."""
    return Statement(
        Sid="TableStreamRead",
        Effect=Allow,
        Action=[dynamodb.DescribeStream, dynamodb.GetRecords, dynamodb.GetShardIterator],
        Resource=[GetAtt(table, "StreamArn")],
    )


def stream_list() -> Statement:
    """ListStreams has no resource type in IAM: AWS requires `*` for it."""
    return Statement(Sid="StreamList", Effect=Allow, Action=[dynamodb.ListStreams], Resource=["*"])


def parameters_read(*parameters: SsmParameter) -> Statement:
    """GetParameter on exactly these parameters (their names start with "/")."""
    return Statement(
        Sid="ParametersRead",
        Effect=Allow,
        Action=[ssm.GetParameter],
        Resource=[
            Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}", Name=Ref(p))
            for p in parameters
        ],
    )


def log_group_write(log_group: LogGroup) -> Statement:
    """Write log streams of this one log group (it exists: no CreateLogGroup)."""
    return Statement(
        Sid="OwnLogGroupWrite",
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents],
        # The log group's Arn attribute ends in ":*", which covers its streams.
        Resource=[GetAtt(log_group, "Arn")],
    )


def xray_write() -> Statement:
    """X-Ray segments: the actions have no resource type, so AWS requires `*`."""
    return Statement(
        Sid="XRayWrite", Effect=Allow, Action=[xray.PutTraceSegments, xray.PutTelemetryRecords], Resource=["*"]
    )


def queue_send(queue: Queue) -> Statement:
    """Send failed events to the dead-letter queue."""
    return Statement(Sid="DeadLetterSend", Effect=Allow, Action=[sqs.SendMessage], Resource=[GetAtt(queue, "Arn")])


def topic_publish(topic: Topic) -> Statement:
    """Publish notifications to this topic."""
    return Statement(Sid="TopicPublish", Effect=Allow, Action=[sns.Publish], Resource=[Ref(topic)])


def key_use(key: Key) -> Statement:
    """Use the stack's key for data (table, queue, topic, Lambda settings): no key management."""
    return Statement(
        Sid="StackKeyUse", Effect=Allow, Action=[kms.Decrypt, kms.GenerateDataKey], Resource=[GetAtt(key, "Arn")]
    )


def alias_shift(*functions: Function) -> Statement:
    """Read and move these functions' `live` alias (what CodeDeploy does to shift traffic)."""
    return Statement(
        Sid="LiveAliasShift",
        Effect=Allow,
        Action=[awslambda.GetAlias, awslambda.UpdateAlias, awslambda.GetProvisionedConcurrencyConfig],
        # The alias ARNs from the functions' (the alias itself waits on CodeDeploy: no Ref to it).
        Resource=[Sub(f"${{Function}}:{LIVE_ALIAS}", Function=GetAtt(f, "Arn")) for f in functions],
    )


def alarms_read(*alarms: Alarm) -> Statement:
    """Read the state of exactly these alarms (CodeDeploy stops and rolls back when one fires)."""
    return Statement(
        Sid="ReleaseAlarmsRead",
        Effect=Allow,
        Action=[cloudwatch.DescribeAlarms],
        # Built from the name (Ref), not GetAtt(Arn): emulators that skip alarms fail a stack on a
        # GetAtt of one, while a Ref just resolves to nothing there.
        Resource=[
            Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${Alarm}", Alarm=Ref(alarm))
            for alarm in alarms
        ],
    )
