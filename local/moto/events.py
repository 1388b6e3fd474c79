"""Patch 5, what subscribers receive: every committed DynamoDB write, stream record, schedule change, user
change, queued or deleted dead letter, secret change and sent email or SMS, handed to the subscribers of its
kind (the local journal, the dispatcher, the outbox) inside the request, before moto answers it. The
service modules publish; `subscribe` is how the local stack listens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemChange:
    table: str
    key: dict[str, Any]  # DynamoDB JSON of the key attributes
    item: dict[str, Any] | None  # the item after the write (DynamoDB JSON), None when deleted


@dataclass(frozen=True)
class StreamAppend:
    table: str
    record: dict[str, Any]  # the stream record as GetRecords returns it, with its SequenceNumber


@dataclass(frozen=True)
class Commit:
    """One acknowledged DynamoDB write call: a PutItem, UpdateItem, DeleteItem or a whole transaction."""

    items: tuple[ItemChange, ...]
    stream: tuple[StreamAppend, ...]


@dataclass(frozen=True)
class ScheduleChange:
    group: str
    name: str
    definition: dict[str, Any] | None  # CreateSchedule arguments; None when deleted


@dataclass(frozen=True)
class UsersChange:
    pool_id: str
    users: tuple[dict[str, Any], ...]  # every user of the pool: attributes (without sub), groups, enabled


@dataclass(frozen=True)
class QueueChange:
    queue: str  # queue name
    message_id: str
    body: str | None  # None when the message was deleted


@dataclass(frozen=True)
class SecretChange:
    region: str
    name: str
    # What restores it (`secret_state`), values included, so never in a repr or a log; None when deleted.
    secret: dict[str, Any] | None = field(repr=False)


@dataclass(frozen=True)
class Sent:
    channel: str  # "email" or "sms"
    message_id: str
    to: tuple[str, ...]
    raw: str | None = None  # the MIME message of an email
    text: str | None = None  # an SMS, or a simple (non-MIME) email's body
    subject: str | None = None
    source: str | None = None


Listener = Callable[[Any], None]
_listeners: dict[type, list[Listener]] = {
    Commit: [],
    ScheduleChange: [],
    UsersChange: [],
    QueueChange: [],
    SecretChange: [],
    Sent: [],
}


def subscribe(kind: type, listener: Listener) -> Callable[[], None]:
    """Calls `listener(event)` for each event of `kind`, inside the request, before moto answers it.
    Returns a function that unsubscribes."""
    _listeners[kind].append(listener)
    return lambda: _listeners[kind].remove(listener) if listener in _listeners[kind] else None


def publish(event: Any) -> None:
    for listener in list(_listeners[type(event)]):
        listener(event)
