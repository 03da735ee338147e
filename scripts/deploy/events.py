"""Stack events: read only the new ones, oldest first, and keep the failures' reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StackEvent:
    """One DescribeStackEvents row."""

    event_id: str
    timestamp: datetime | None
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        """A *_FAILED status: the resource (or stack) could not be changed."""
        return self.status.endswith("_FAILED")

    @classmethod
    def from_api(cls, event: dict[str, Any]) -> StackEvent:
        """From one `StackEvents` item."""
        return cls(
            event_id=event["EventId"],
            timestamp=event.get("Timestamp"),
            logical_id=event.get("LogicalResourceId", ""),
            resource_type=event.get("ResourceType", ""),
            status=event.get("ResourceStatus", ""),
            reason=event.get("ResourceStatusReason", "") or "",
        )

    def line(self) -> str:
        """A one-line rendering for the terminal."""
        when = self.timestamp.strftime("%H:%M:%S") if self.timestamp else "--:--:--"
        text = f"{when}  {self.status:<36} {self.resource_type:<36} {self.logical_id}"
        return f"{text}  {self.reason}" if self.reason else text


class EventStream:
    """The events of one stack that appeared after `prime`, in the order they happened."""

    def __init__(self, cfn: Any, stack_id: str) -> None:
        self.cfn = cfn
        self.stack_id = stack_id
        self._seen: set[str] = set()
        self.events: list[StackEvent] = []

    def prime(self) -> None:
        """Mark the stack's current events as old (only the newest page matters)."""
        response = self.cfn.describe_stack_events(StackName=self.stack_id)
        self._seen.update(event["EventId"] for event in response.get("StackEvents", []))

    def poll(self) -> list[StackEvent]:
        """The events since the last call, oldest first (pages until a seen event)."""
        fresh: list[StackEvent] = []
        kwargs: dict[str, Any] = {"StackName": self.stack_id}
        while True:
            response = self.cfn.describe_stack_events(**kwargs)
            page = response.get("StackEvents", [])
            reached_seen = False
            for event in page:  # newest first
                if event["EventId"] in self._seen:
                    reached_seen = True
                    break
                fresh.append(StackEvent.from_api(event))
            token = response.get("NextToken")
            if reached_seen or not token:
                break
            kwargs["NextToken"] = token
        fresh.reverse()
        self._seen.update(event.event_id for event in fresh)
        self.events.extend(fresh)
        return fresh

    def failures(self) -> list[StackEvent]:
        """Every failed event seen so far that carries a reason, oldest first."""
        return [event for event in self.events if event.failed and event.reason]
