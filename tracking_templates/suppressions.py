"""checkov checks that do not apply here, each with the reason (read from resource Metadata)."""

from __future__ import annotations

NO_VPC = (
    "CKV_AWS_117",
    "Reaches only regional AWS APIs (DynamoDB, SSM, SNS, SQS, X-Ray) and no private network; "
    "a VPC would add NAT or endpoints and cold-start cost for no isolation gained.",
)
STREAM_FAILURES_GO_TO_MAPPING_DLQ = (
    "CKV_AWS_116",
    "Invoked synchronously by the stream mapping, whose OnFailure destination is the dead-letter "
    "queue; a function DLQ only catches asynchronous invocations.",
)
NO_API_CACHE = (
    "CKV_AWS_120",
    "No cache: every answer is per shipment and must be current; POSTs are never cacheable.",
)


def checkov_metadata(*skips: tuple[str, str]) -> dict:
    """Resource Metadata telling checkov which checks to skip and why."""
    return {"checkov": {"skip": [{"id": check, "comment": comment} for check, comment in skips]}}
