"""Stack events: each row read and rendered exactly, only new ones streamed (every page), failures kept."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botocore.stub import Stubber

from scripts.deploy.events import EventStream, StackEvent

from .stubbed import STACK, STACK_ID, event

ROOT = "AWS::CloudFormation::Stack"


def test_a_row_is_read_field_by_field_and_missing_fields_are_empty() -> None:
    when = datetime(2026, 11, 28, 9, 5, 7, tzinfo=timezone.utc)
    full = {"EventId": "e1", "Timestamp": when, "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function",
            "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "NoSuchKey"}  # fmt: skip
    assert StackEvent.from_api(full) == StackEvent("e1", when, "Fn", "AWS::Lambda::Function", "UPDATE_FAILED", "NoSuchKey")
    assert StackEvent.from_api({"EventId": "e2", "ResourceStatusReason": None}) == StackEvent("e2", None, "", "", "", "")


def test_a_row_is_one_aligned_line_with_its_reason_when_it_has_one() -> None:
    when = datetime(2026, 11, 28, 9, 5, 7, tzinfo=timezone.utc)
    failed = StackEvent("e1", when, "Fn", "AWS::Lambda::Function", "UPDATE_FAILED", "NoSuchKey")
    assert failed.line() == (
        "09:05:07  UPDATE_FAILED                        AWS::Lambda::Function                Fn  NoSuchKey"
    )
    assert StackEvent("e2", None, STACK, ROOT, "UPDATE_COMPLETE", "").line() == (
        "--:--:--  UPDATE_COMPLETE                      AWS::CloudFormation::Stack           tracking-prod"
    )


def test_failed_means_a_status_ending_in_failed() -> None:
    statuses = {s: StackEvent("e", None, "X", ROOT, s, "").failed
                for s in ("UPDATE_FAILED", "CREATE_FAILED", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS")}  # fmt: skip
    assert statuses == {"UPDATE_FAILED": True, "CREATE_FAILED": True, "UPDATE_COMPLETE": False,
                        "UPDATE_ROLLBACK_IN_PROGRESS": False}  # fmt: skip


def test_only_new_events_are_streamed_oldest_first_across_pages(cfn: tuple[Any, Stubber]) -> None:
    # GIVEN a stack with one old event, then four new ones over two pages (newest first)
    client, stubber = cfn
    old = event("e0", STACK, ROOT, "UPDATE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, {"StackName": STACK_ID})
    new = [event("e4", STACK, ROOT, "UPDATE_ROLLBACK_COMPLETE"),
           event("e3", "Fn", "AWS::Lambda::Function", "UPDATE_FAILED", "NoSuchKey"),
           event("e2", "Q", "AWS::SQS::Queue", "UPDATE_FAILED"),
           event("e1", STACK, ROOT, "UPDATE_IN_PROGRESS", "User Initiated")]  # fmt: skip
    stubber.add_response("describe_stack_events", {"StackEvents": new[:2], "NextToken": "p2"}, {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [*new[2:], old], "NextToken": "p3"},
                         {"StackName": STACK_ID, "NextToken": "p2"})  # fmt: skip
    # AND a later poll that finds the same events again and nothing newer
    stubber.add_response("describe_stack_events", {"StackEvents": [new[0]], "NextToken": "p4"}, {"StackName": STACK_ID})
    stream = EventStream(client, STACK_ID)
    # WHEN priming, then polling twice
    stream.prime()
    fresh = stream.poll()
    again = stream.poll()
    # THEN the new events once each, oldest first, pages followed only until an event already seen
    assert [e.event_id for e in fresh] == ["e1", "e2", "e3", "e4"] and again == []
    assert [e.event_id for e in stream.events] == ["e1", "e2", "e3", "e4"]
    # AND the failures kept are those that say why (e2 failed without a reason)
    assert [e.event_id for e in stream.failures()] == ["e3"]


def test_a_last_page_without_a_token_ends_the_poll(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    stubber.add_response("describe_stack_events", {}, {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [event("e1", STACK, ROOT, "CREATE_IN_PROGRESS")]},
                         {"StackName": STACK_ID})  # fmt: skip
    stubber.add_response("describe_stack_events", {}, {"StackName": STACK_ID})
    stream = EventStream(client, STACK_ID)
    stream.prime()
    assert [e.event_id for e in stream.poll()] == ["e1"]
    # an answer with no StackEvents at all is no new event
    assert stream.poll() == []
