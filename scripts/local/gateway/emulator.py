"""The one place the local runtime reaches into the embedded moto server's internals.

moto delivers a table's stream records to the Lambda functions mapped to it itself, by running
them in Docker: without Docker every write pays a failed Docker call, and moto then drops the
records from the stream, so no other reader sees them. The local runtime runs those functions
in-process instead (see `streams.py`), so it detaches moto's own delivery from the table. The
mapping stays in the emulated stack; only moto's Docker-bound consumer goes.
"""

from __future__ import annotations


def detach_stream_consumers(account_id: str, region: str, table_name: str) -> int:
    """Stop moto delivering TABLE_NAME's stream to Lambda itself; return how many mappings it had."""
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account_id][region].get_table(table_name)
    count = len(table.lambda_event_source_mappings)
    table.lambda_event_source_mappings.clear()
    return count
