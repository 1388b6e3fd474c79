"""(d) Write units per booking change: what one TransactWriteItems of a booking, a reschedule and a
cancellation costs, for a 60-minute appointment with a 10-minute buffer after it (bench/scenario.py).

A handler on `provide-client-params.dynamodb.TransactWriteItems` sees each transaction's API parameters
before botocore sends them, and reads the stored version of every item it touches (GetItem, strongly
consistent); a handler on `after-call.dynamodb.TransactWriteItems` reads back what an Update left. Those
reads go through a client of a session of their own, so no other handler sees or counts them.

Sizes follow the DynamoDB Developer Guide, "DynamoDB item sizes and formats"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html): the
UTF-8 bytes of each attribute name plus the size of its value; a string is its UTF-8 bytes, a number 1 byte
per two significant digits plus 1, binary its raw bytes, null and Boolean 1 byte, a list or map 3 bytes
plus its elements plus 1 byte per element (a map element's name counts). Units follow "DynamoDB read and
write operations" and "Amazon DynamoDB Transactions: How it works": one write unit per 1 KB (1,024 bytes,
rounded up, at least one) of the larger of the item before and after a Put or Update, of the deleted item
for a Delete; a ConditionCheck is counted at the size of the stored item; and a transactional write costs
two units per KB (prepare and commit). The items of the global secondary index (gsi1, projection ALL) are
counted apart, at one unit per KB for each index entry written or removed: they are the same in both
designs (only the booking item carries gsi1 keys).

Run alone, `python -m bench.write_units` measures the same steps on a fresh embedded AWS and prints them as
JSON: that is how the baseline below was measured on the commit before the time ledger.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import boto3

from bench.scenario import (
    BUFFER_AFTER_MINUTES,
    SERVICE_MINUTES,
    ZONE_NAME,
    business_settings,
    next_monday,
    service_draft,
    staff_draft,
)
from booking.domain.access import Principal, Role
from booking.domain.booking import BookingOrder, CustomerDetails

if TYPE_CHECKING:
    from booking_api.container import Container

KB = 1024
TRANSACTIONAL = 2  # write units per KB of a transactional write
KEY = ("pk", "sk")  # the table's key schema (infra/template.yaml)
INDEX_KEY = ("gsi1pk", "gsi1sk")  # gsi1, projection ALL
SLUG = "bench-write-units"
TARGET_FRACTION = 1 / 3  # the issue: at most a third of today's write units, for a booking and a reschedule
_PENDING = "bench.write_units.pending"


@dataclass(frozen=True)
class Baseline:
    items: int
    wcu: int


# Today's design, lock units (one lock item per staff member and 5-minute unit: 14 for 60 + 10 minutes),
# measured with this module, run alone, on commit b039a6e8e6ac8d6ba3d2f8a25fa584b049786ef4 (the last
# before the time ledger; `git rev-parse HEAD` then):
#   git worktree add /tmp/old-ledger HEAD && cp bench/write_units.py /tmp/old-ledger/bench/
#   cd /tmp/old-ledger && PYTHONPATH=/tmp/old-ledger:/tmp/old-ledger/shared:/tmp/old-ledger/functions/booking_api \
#       /work/main/.venv/bin/python -m bench.write_units
# Book: booking, diary entry, history, customer profile and 14 lock puts. A reschedule that does not overlap
# its old time, same day or not: booking, diary delete + put, history, 14 lock deletes and 14 lock puts.
# Cancel: booking (its item grows past 1 KB: 4 units), diary, history, 14 lock deletes. gsi1: 1, 2, 2, 2.
BASELINE_COMMIT = "b039a6e"
BASELINE: dict[str, Baseline] = {
    "book": Baseline(items=18, wcu=36),
    "reschedule": Baseline(items=32, wcu=64),
    "reschedule_next_day": Baseline(items=32, wcu=64),
    "cancel": Baseline(items=17, wcu=36),
}


# --- DynamoDB's item size ---------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one AttributeValue (low-level form, e.g. {"S": "x"}), without its attribute name."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content) if isinstance(content, bytes | bytearray) else len(base64.b64decode(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in content)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in content)
    if kind == "BS":
        return sum(value_size({"B": b}) for b in content)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values, in bytes."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    """Write units of one write of an item of `size` bytes (1 KB each, rounded up, at least one)."""
    return max(1, math.ceil(size / KB))


# --- what a transaction wrote --------------------------------------------------------------------------


def _kind(key: Mapping[str, Any], *items: Mapping[str, Any] | None) -> str:
    for item in items:
        if item and "S" in item.get("kind", {}):
            return str(item["kind"]["S"])
    parts = str(key["pk"]["S"]).split("#")
    return parts[2].lower() if len(parts) > 2 else "?"


def _index_key(item: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    if not item or INDEX_KEY[0] not in item:
        return None
    return tuple(json.dumps(item.get(name), sort_keys=True) for name in INDEX_KEY)


@dataclass(frozen=True)
class Action:
    """One action of a transaction: Put, Update, Delete or ConditionCheck, of an item of some kind."""

    action: str
    kind: str  # booking, diary, history, customer, sheet, lock...
    before: int  # stored size before the transaction (0: there was none)
    after: int  # stored size after it (0: none)

    @property
    def size(self) -> int:
        """The size DynamoDB charges the write for."""
        if self.action in ("Put", "Update"):
            return max(self.before, self.after)
        return self.before

    @property
    def wcu(self) -> int:
        return TRANSACTIONAL * units(self.size)


@dataclass(frozen=True)
class Transaction:
    actions: tuple[Action, ...]
    index_wcu: int  # writes to gsi1 the transaction causes (not transactional units)

    @property
    def items(self) -> int:
        return len(self.actions)

    @property
    def wcu(self) -> int:
        return sum(a.wcu for a in self.actions)


def _index_writes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> int:
    """Write units on gsi1 (projection ALL) for one item going from `before` to `after`."""
    old, new = _index_key(before), _index_key(after)
    if old is None and new is None:
        return 0
    if old is None:
        return units(item_size(after or {}))
    if new is None:
        return units(item_size(before or {}))
    if old == new:
        return units(max(item_size(before or {}), item_size(after or {})))
    return units(item_size(before or {})) + units(item_size(after or {}))  # index entry moves: delete + put


@dataclass
class Step:
    """The writes of one measured use case call."""

    key: str
    label: str
    transactions: list[Transaction] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    cancelled: int = 0  # transactions DynamoDB refused (retried by the repository)

    @property
    def items(self) -> int:
        return sum(t.items for t in self.transactions)

    @property
    def wcu(self) -> int:
        return sum(t.wcu for t in self.transactions)

    @property
    def index_wcu(self) -> int:
        return sum(t.index_wcu for t in self.transactions)

    @property
    def largest(self) -> Action | None:
        actions = [a for t in self.transactions for a in t.actions]
        return max(actions, key=lambda a: a.size) if actions else None

    def by_kind(self) -> str:
        counted = Counter(f"{a.action} {a.kind}" for t in self.transactions for a in t.actions)
        return ", ".join(f"{name} {n}" for name, n in sorted(counted.items()))

    def by_operation(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.requests.items())) or "none"

    @property
    def baseline(self) -> Baseline | None:
        return BASELINE.get(self.key)

    @property
    def has_target(self) -> bool:
        return self.key != "cancel"

    @property
    def met(self) -> bool | None:
        baseline = self.baseline
        if baseline is None or not self.has_target:
            return None
        return len(self.transactions) == 1 and self.wcu <= baseline.wcu * TARGET_FRACTION

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "transactions": len(self.transactions),
            "items": self.items,
            "wcu": self.wcu,
            "index_wcu": self.index_wcu,
            "cancelled": self.cancelled,
            "by_kind": self.by_kind(),
            "requests": dict(self.requests),
            "actions": [asdict(a) | {"wcu": a.wcu} for t in self.transactions for a in t.actions],
        }


class TransactionRecorder:
    """Botocore handlers that size every TransactWriteItems while a step is being recorded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._step: Step | None = None
        self._reader: Any = None

    def install(self, session: Any) -> None:
        """Register on boto3's default session before the container builds its clients."""
        session.events.register("provide-client-params.dynamodb.TransactWriteItems", self._before)
        session.events.register("after-call.dynamodb.TransactWriteItems", self._after)
        session.events.register("before-call.dynamodb", self._count)

    def _get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        if self._reader is None:
            # A session of its own: its client has none of the handlers of the default session.
            self._reader = boto3.session.Session().client("dynamodb")
        found = self._reader.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return dict(found) if found else None

    def _count(self, model: Any = None, **_: Any) -> None:
        with self._lock:
            if self._step is not None:
                self._step.requests[model.name] += 1

    def _before(self, params: Any = None, context: Any = None, **_: Any) -> None:
        if self._step is None or context is None:
            return None
        pending = []
        for entry in params["TransactItems"]:
            ((action, request),) = entry.items()
            table = request["TableName"]
            put = request.get("Item") if action == "Put" else None
            key = {name: (put or request["Key"])[name] for name in KEY}
            pending.append((action, table, key, put, self._get(table, key)))
        context[_PENDING] = pending
        return None  # the parameters go on unchanged

    def _after(self, http_response: Any = None, context: Any = None, **_: Any) -> None:
        pending = (context or {}).pop(_PENDING, None)
        step = self._step
        if pending is None or step is None:
            return
        if http_response.status_code >= 300:
            step.cancelled += 1
            return
        actions = []
        index = 0
        for action, table, key, put, before in pending:
            after: dict[str, Any] | None
            if action == "Put":
                after = put
            elif action == "Update":
                after = self._get(table, key)
            elif action == "ConditionCheck":
                after = before
            else:
                after = None
            kind = _kind(key, before, after)
            actions.append(
                Action(action, kind, item_size(before) if before else 0, item_size(after) if after else 0)
            )
            if action != "ConditionCheck":
                index += _index_writes(before, after)
        step.transactions.append(Transaction(tuple(actions), index))

    @contextmanager
    def record(self, key: str, label: str) -> Iterator[Step]:
        step = Step(key, label)
        with self._lock:
            self._step = step
        try:
            yield step
        finally:
            with self._lock:
                self._step = None


# --- the steps ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteUnitResults:
    steps: list[Step]


def _at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, clock_time.fromisoformat(hhmm), tzinfo=ZoneInfo(ZONE_NAME))


def measure(container: Container, recorder: TransactionRecorder) -> WriteUnitResults:
    """A fresh tenant (one 60-minute service, 10-minute buffer after, one therapist on 09:00-17:00
    weekdays): book on a Monday at 09:00 as the public route does, reschedule as the owner to 14:00 the same
    day and then to 09:00 the next day, then cancel. No two positions overlap."""
    business = container.catalogue.create_business(business_settings(SLUG))
    owner = Principal(user_id="bench", tenant_id=business.id, role=Role.OWNER)
    service = container.catalogue.create_service(owner, service_draft())
    staff = container.catalogue.create_staff(owner, staff_draft(0, [service.id]))
    day = next_monday(datetime.now(ZoneInfo(ZONE_NAME)).date()) + timedelta(days=7)
    appointment = f"{SERVICE_MINUTES}-min appointment + {BUFFER_AFTER_MINUTES}-min buffer"
    request = BookingOrder(
        services=[service.id],
        staff=staff.id,
        start=_at(day, "09:00"),
        customer=CustomerDetails(name="Write Units", email="write-units@example.com", phone="+447911123456"),
    )
    steps = []
    with recorder.record("book", f"book() as the public route does, {appointment}") as step:
        booking_id = container.bookings.book(SLUG, request).booking.id
    steps.append(step)
    with recorder.record("reschedule", f"reschedule (owner) to later the same day, {appointment}") as step:
        container.bookings.reschedule(owner, booking_id, _at(day, "14:00"), None, False)
    steps.append(step)
    with recorder.record("reschedule_next_day", f"reschedule (owner) to the next day, {appointment}") as step:
        container.bookings.reschedule(owner, booking_id, _at(day + timedelta(days=1), "09:00"), None, False)
    steps.append(step)
    with recorder.record("cancel", f"cancel (owner), {appointment}") as step:
        container.bookings.cancel(owner, booking_id, "write units benchmark")
    steps.append(step)
    return WriteUnitResults(steps)


def run() -> WriteUnitResults:
    """The steps alone, on a fresh embedded AWS."""
    from local.aws import EmbeddedAws  # noqa: PLC0415  # only when run alone

    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
    aws = EmbeddedAws()
    aws.start()
    try:
        resources = aws.provision()
        os.environ.update(resources.environment())
        os.environ["APP_SECRET"] = secrets.token_urlsafe(36)
        recorder = TransactionRecorder()
        recorder.install(boto3._get_default_session())
        from booking_api.container import build_container  # noqa: PLC0415  # after the environment

        return measure(build_container(claims=lambda event: None), recorder)
    finally:
        aws.stop()


def main() -> int:
    results = run()
    json.dump([step.as_json() for step in results.steps], sys.stdout, indent=2)
    print()
    for step in results.steps:
        print(
            f"{step.key}: {len(step.transactions)} transaction(s), {step.items} items, {step.wcu} WCU "
            f"(+{step.index_wcu} on gsi1); {step.by_kind()}; requests: {step.by_operation()}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
