"""Every change the local stack makes to moto (its embedded AWS), in one module.

Written against moto 5.2.5 (pinned in pyproject.toml). `PATCHED` and `RELIED_ON` name each moto function
this module replaces, wraps or leans on, with a hash of its source; tests/local/test_moto_patches.py fails
when an upgrade changes any of them, so whoever upgrades re-reads those functions before trusting this.

1. TransactWriteItems without table copies. moto's version (`DynamoDBBackend.transact_write_items`)
   deep-copies the whole table once per item of the transaction so it can roll back by swapping the copy
   in. Each booking copied the table about 19 times; latency and memory grew with every booking, and the
   swapped-in copy brought its own stream shard, so the dispatcher's iterator read a dead stream after any
   failed transaction. Ours checks every item first (unicity, conditions) and writes only when all pass;
   a write that still fails (a validation error) undoes exactly the items it touched.
2. No tracked instances. moto's `BaseModel.__new__` keeps every model object it ever made (every item
   version, stream record and shard iterator) in a class-level list for its dashboard, so nothing is ever
   freed. The embedded AWS has no dashboard: instances are no longer tracked.
3. Writes one at a time. DynamoDB writes (and stream reads) run under one lock: stricter than DynamoDB,
   never weaker, and it gives every committed change one order, which the journal relies on.
4. Stream retention and iterators. DynamoDB keeps stream records 24 hours and shard iterators 15 minutes;
   moto keeps both for ever. `trim_stream` drops records the (single, local) consumer has delivered, and
   iterators expire after 15 minutes.
5. Change capture. Every committed DynamoDB write, stream record, schedule change, user change, queued
   or deleted dead letter, secret change and sent email or SMS is handed to subscribers (the local journal,
   the dispatcher, the outbox) before moto answers the request, so an acknowledged write can be made
   durable before it is acknowledged.
6. Fault injection. The embedded SES/SNS can be told to refuse or to crash on the next sends, so tests
   can prove that messages survive provider errors and a crash between claim and send.
7. Queries by partition. moto's Query sorts the whole table to find one partition's items, so every
   query cost more as the table filled; it is handed just the partition instead.
8. Step Functions executions run, and their Lambda tasks run our handlers in process. moto only runs
   state machines when its `execute_state_machine` config is on (`install` turns it on), and it invokes a
   Lambda task (`arn:aws:states:::lambda:invoke` or a plain function ARN) through its own Lambda, which
   needs Docker. Both resource styles go through `lambda_eval_utils._invoke_lambda_function`, replaced
   here by a call to the handler registered with `register_function`, with AWS's semantics: the return
   value is the payload, an exception is FunctionError "Unhandled" with {"errorType": class name, ...} so
   Retry and Catch match on the class name, an unknown function is ResourceNotFoundException. Retry
   pauses go through `set_retry_pause` (tests record them instead of waiting). An execution started
   without a name gets a UUID, as on AWS (moto named every one "None", so the second one was refused).
9. Presigned POST policies. moto stores whatever a browser-style POST form upload carries; S3 refuses an
   upload whose form has a `policy` it breaks. Ours checks the policy before moto stores anything, as S3
   does: an expired policy (against real time, not the dev clock) or a failed condition (exact match,
   `eq`, `starts-with`, on form fields, or the bucket) is 403 AccessDenied "Invalid according to Policy:
   ...", a file outside `content-length-range` is 400 EntityTooLarge / EntityTooSmall, and a policy that
   is not base64 JSON with an expiration and known conditions is 400 InvalidPolicyDocument. The signature
   is not verified (nor is a form field no condition names refused): a form signed with any key passes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import inspect
import json
import logging
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

import moto
from moto.core.common_models import BaseModel
from moto.core.exceptions import ServiceException
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

logger = logging.getLogger("local.moto_patches")

MOTO_VERSION = "5.2.5"
ITERATOR_LIFETIME_SECONDS = 15 * 60  # as DynamoDB Streams

# The first 16 hex digits of the sha256 of each moto function's source in MOTO_VERSION: those this module
# replaces or wraps (by their name in `original`), and those whose internals it relies on.
PATCHED: dict[str, str] = {
    "transact_write_items": "81db2cb7d94e39c9",  # replaced: check all, then write; no table copies
    "put_item": "f5d9a5042c77b89e",  # wrapped, with update_item and delete_item: lock, undo, capture
    "update_item": "218984588dd689a5",
    "delete_item": "083a4bb1af18f6fd",
    "shard_add": "357dc6da267e5dd7",  # wrapped: the stream records of a write, for undo and capture
    "base_model_new": "08cf0ef20e88029a",  # replaced: no tracking
    "streams_init": "074dec7c828aa7e5",  # wrapped: expiring iterators
    "get_records": "db8c6cb04430c08f",  # wrapped: under the write lock; expired iterators refused
    "create_schedule": "513099380dbd4563",  # wrapped, with update and delete: capture
    "update_schedule": "15f9bd86f2396a39",
    "delete_schedule": "4569544648c9a8c4",
    "ses.send_email": "62402224cef38244",  # wrapped, with send_raw_email and SNS publish: capture, faults
    "ses.send_raw_email": "b908bd50201b2d10",
    "sns.publish": "6356a2b5b79eb3de",
    "cognito.admin_add_user_to_group": "da85be44cd4b0137",  # wrapped, all of them: capture
    "cognito.admin_confirm_sign_up": "bce605620eaf380b",
    "cognito.admin_create_user": "27a62b755132778c",
    "cognito.admin_delete_user": "3f85046438cf9018",
    "cognito.admin_delete_user_attributes": "9d301b8a8c061119",
    "cognito.admin_disable_user": "f05ca11c85427129",
    "cognito.admin_enable_user": "95fd22053b5ef45a",
    "cognito.admin_remove_user_from_group": "4380a3a8fa70e60c",
    "cognito.admin_reset_user_password": "f8c3f42e089ddcb5",
    "cognito.admin_set_user_password": "0b2a56503d390d4d",
    "cognito.admin_update_user_attributes": "e3a1c7c948637d41",
    "table_query": "002b4d00be6df07c",  # wrapped, with all_items: a query reads only its partition
    "all_items": "c80d2ee3c896acd0",
    "sqs.send_message": "bf161af09a9e6b86",  # wrapped, with delete_message: capture
    "sqs.delete_message": "9eb658afdceb6bd9",
    "secrets.create_secret": "fa9d45682d27ae62",  # wrapped, all of SECRET_WRITES: capture
    "secrets.put_secret_value": "9b3e948abda1903c",
    "secrets.update_secret": "9f076257784bd378",
    "secrets.update_secret_version_stage": "76b4706cf62c231c",
    "secrets.delete_secret": "761af0a365750e4b",
    "secrets.restore_secret": "66f395e7d1cac31b",
    "secrets.put_resource_policy": "7a6271d09c2443e3",
    "secrets.delete_resource_policy": "2fbd5fb87da37398",
    "secrets.tag_resource": "37c90467a47375c6",
    "secrets.untag_resource": "3195db492c3476d7",
    "sfn.invoke_lambda_function": "0ebcddb746e422b0",  # replaced: the registered handler, in process
    "sfn.retrier_eval_body": "48463fff19cefa98",  # replaced: the pause through set_retry_pause
    "sfn.start_execution": "0f8d9dd57baf0c28",  # wrapped: an unnamed execution gets a UUID
    "s3.bucket_response_post": "5a5db8c38c8f1648",  # wrapped: a POST form's policy checked first
}
RELIED_ON: dict[str, str] = {
    "moto.dynamodb.models.table:Table.put_item": "de23933013ef8426",  # items[hash][range] = Item
    "moto.dynamodb.models.table:Table.delete_item": "1594f7b07616c8cb",
    "moto.dynamodb.models.table:StreamShard.get": "fa7e9a0d7b438c2f",  # index = seq - starting number
    "moto.dynamodbstreams.models:ShardIterator.__init__": "5842e50a95242ef8",
    "moto.scheduler.models:Schedule.to_dict": "293b6c07de343115",
    "moto.sqs.models:Queue.add_message": "f27c9231c1f20433",  # restoring saved messages
    "moto.sqs.models:Message.__init__": "4ab16d5eb16ec41c",
    "moto.secretsmanager.models:FakeSecret.__init__": "eb6564ac1976646e",  # restoring saved secrets
    "moto.secretsmanager.models:SecretsStore.get": "62bdd2d662289238",  # by name or ARN
    "moto.stepfunctions.responses:get_backend": "e736380f7d9c98a5",  # execute_state_machine, per request
    # Both Lambda task styles invoke through `_invoke_lambda_function`, and name the error its errorType.
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"
    ":execute_lambda_function_integration": "f8c714c35a2410c0",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda"
    ":StateTaskLambda._from_error": "1a3cdc6f4b303bfe",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda"
    ":StateTaskServiceLambda._from_error": "ba630b50b845a8d3",
    # A POST form's fields are in `form_data` (and `querystring`), its file in `body`, and an S3ClientError
    # raised while handling it is answered as an S3 error (its code's status in S3's model: 403 for
    # AccessDenied, 400 for a code the model lacks).
    "moto.core.responses:BaseResponse.setup_class": "0045fc77574abb17",
    "moto.s3.responses:S3Response.bucket_response": "d560bab0e38e517b",
}

# Cognito calls that change users (the local stack persists users; groups come from the template).
COGNITO_USER_WRITES = (
    "admin_create_user",
    "admin_set_user_password",
    "admin_add_user_to_group",
    "admin_remove_user_from_group",
    "admin_update_user_attributes",
    "admin_delete_user_attributes",
    "admin_delete_user",
    "admin_disable_user",
    "admin_enable_user",
    "admin_confirm_sign_up",
    "admin_reset_user_password",
)

WRITE_LOCK = threading.RLock()


class AwsError(ServiceException):
    """An error answered in the called service's own format (defined outside moto's packages, so moto
    looks its code up in the service being called)."""


_ORIGINALS: dict[str, Any] = {}
_installed = False


# --- what subscribers receive ---------------------------------------------------------------------------


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


def _publish(event: Any) -> None:
    for listener in list(_listeners[type(event)]):
        listener(event)


# --- 1 and 3: DynamoDB writes, one at a time, all or nothing, captured -----------------------------------


@dataclass
class _WriteCall:
    """What one outermost write call touched, to undo it on failure or publish it on success."""

    before: dict[tuple[str, str], tuple[Table, DynamoType, DynamoType | None, Item | None]] = field(
        default_factory=dict
    )
    shard_lengths: dict[int, tuple[StreamShard, int]] = field(default_factory=dict)
    stream: list[StreamAppend] = field(default_factory=list)


_local = threading.local()


def _current_call() -> _WriteCall | None:
    return getattr(_local, "call", None)


def _key_of(table: Table, attrs: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    if table.hash_key_attr not in attrs or (table.range_key_attr and table.range_key_attr not in attrs):
        raise MockValidationException("The provided key element does not match the schema")
    hash_key = DynamoType(attrs[table.hash_key_attr])
    range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _touch(backend: DynamoDBBackend, table_name: str, attrs: dict[str, Any]) -> None:
    """Remembers the item's state before the current call first writes it (for undo and capture)."""
    call = _current_call()
    if call is None:
        return
    try:
        table = backend.get_table(table_name)
        hash_key, range_key = _key_of(table, attrs)
    except Exception:
        return
    marker = _item_marker(table, hash_key, range_key)
    if marker not in call.before:
        current = table.get_item(hash_key, range_key)
        call.before[marker] = (table, hash_key, range_key, copy.deepcopy(current))


def _undo(call: _WriteCall) -> None:
    for table, hash_key, range_key, before in call.before.values():
        if range_key is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before  # type: ignore[assignment]
        elif before is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = before
    for shard, length in call.shard_lengths.values():
        del shard.items[length:]


def _captured(call: _WriteCall) -> Commit:
    changes = []
    for table, hash_key, range_key, _ in call.before.values():
        key = {table.hash_key_attr: hash_key.to_json()}
        if range_key is not None and table.range_key_attr:
            key[table.range_key_attr] = range_key.to_json()
        after = table.get_item(hash_key, range_key)
        changes.append(ItemChange(table.name, key, after.to_json()["Attributes"] if after else None))
    return Commit(tuple(changes), tuple(call.stream))


@contextmanager
def _write_call() -> Iterator[None]:
    """The outermost DynamoDB write of a request: serialised, undone on failure, published on success."""
    with WRITE_LOCK:
        if _current_call() is not None:  # nested (a transaction's own puts): the outer call owns it
            yield
            return
        call = _local.call = _WriteCall()
        try:
            yield
        except BaseException:
            _undo(call)
            raise
        else:
            commit = _captured(call)
            if commit.items or commit.stream:
                _publish(commit)
        finally:
            _local.call = None


def _put_item(
    self: DynamoDBBackend, table_name: str, item_attrs: dict[str, Any], *args: Any, **kw: Any
) -> Any:
    with _write_call():
        _touch(self, table_name, item_attrs)
        return _ORIGINALS["put_item"](self, table_name, item_attrs, *args, **kw)


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
    with _write_call():
        _touch(self, table_name, key)
        return _ORIGINALS["update_item"](self, table_name, key, *args, **kw)


def _delete_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
    with _write_call():
        _touch(self, table_name, key)
        return _ORIGINALS["delete_item"](self, table_name, key, *args, **kw)


def _item_marker(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> tuple[str, str]:
    return table.name, f"{hash_key.to_json()}|{range_key.to_json() if range_key else None}"


def _check(
    self: DynamoDBBackend, op_type: str, op: dict[str, Any], seen: set[tuple[str, str]]
) -> dict[str, Any] | None:
    """One item of a transaction, against the state before the transaction. Raises what is wrong with
    the request; returns the item's current attributes (or {}) when its condition does not hold."""
    if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
        raise ValueError("Unsupported transaction operation")
    table = self.get_table(op["TableName"])
    hash_key, range_key = _key_of(table, op["Item"] if op_type == "Put" else op["Key"])
    marker = _item_marker(table, hash_key, range_key)
    if marker in seen:
        raise MultipleTransactionsException()
    seen.add(marker)
    condition = op.get("ConditionExpression")
    if condition is None:
        return None
    current = table.get_item(hash_key, range_key)
    check = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if check.expr(current):
        return None
    wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None
    return current.to_json()["Attributes"] if wants_old else {}  # type: ignore[union-attr]


def _apply(self: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> None:
    """Writes one checked item (its condition already held, so it is not evaluated again)."""
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        self.put_item(op["TableName"], op["Item"], None, None, names, values, True)
    elif op_type == "Delete":
        self.delete_item(op["TableName"], op["Key"], names, values, None)
    elif op_type == "Update":
        self.update_item(
            op["TableName"],
            op["Key"],
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names or {},
            expression_attribute_values=values or {},
        )


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """Replaces moto's: check every item, then write them all; never copy a table. Same errors as moto's:
    a validation error as such, anything else as TransactionCanceled with one reason per item."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    if any(len(item) > 1 for item in transact_items):
        raise TransactWriteSingleOpException
    operations = [next(iter(item.items())) for item in transact_items]
    with _write_call():
        # Two operations on one item are refused, so checking all before writing any is exact.
        seen: set[tuple[str, str]] = set()
        reasons: list[tuple[Any, Any, Any]] = []
        for op_type, op in operations:
            try:
                old = _check(self, op_type, op, seen)
            except (MultipleTransactionsException, MockValidationException):
                raise
            except Exception as error:
                reasons.append((type(error).__name__, str(error), None))
                continue
            failed = old is not None
            reasons.append(
                ("ConditionalCheckFailed", "The conditional request failed", old or None)
                if failed
                else (None, None, None)
            )
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        # A write can still fail on what a check cannot see (e.g. an update's validation): `_write_call`
        # then undoes exactly the items written so far.
        for index, (op_type, op) in enumerate(operations):
            try:
                _apply(self, op_type, op)
            except MockValidationException:
                raise
            except Exception as error:
                only: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(operations)
                only[index] = (type(error).__name__, str(error), None)
                raise TransactionCanceledException(only) from error


def _shard_add(self: StreamShard, old: Item | None, new: Item | None) -> None:
    call = _current_call()
    if call is not None and id(self) not in call.shard_lengths:
        call.shard_lengths[id(self)] = (self, len(self.items))
    _ORIGINALS["shard_add"](self, old, new)
    if call is not None and self.items:
        call.stream.append(StreamAppend(self.table.name, self.items[-1].to_json()))


# --- 7: a query reads its partition, not the whole table ---------------------------------------------


def _all_items(self: Table) -> list[Item]:
    partition = getattr(_local, "partition", None)
    if partition is not None and partition[0] is self:
        return list(partition[1])
    return list(_ORIGINALS["all_items"](self))


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    """moto answers a Query on the table (not an index) by sorting every item of the table and keeping
    those of the partition, so each query costs more as the table fills. Handing it only the partition
    (what its filter would keep, in the same order) gives the same answer. Per thread: reads run
    concurrently."""
    index_name = _bound(_ORIGINALS["table_query"], self, (hash_key, *args), kwargs).get("index_name")
    if index_name is not None or hash_key is None or not self.range_key_attr:
        return _ORIGINALS["table_query"](self, hash_key, *args, **kwargs)
    items = self.items.get(hash_key, {})
    _local.partition = (self, sorted(items.values(), key=lambda item: (item.hash_key, item.range_key)))
    try:
        return _ORIGINALS["table_query"](self, hash_key, *args, **kwargs)
    finally:
        _local.partition = None


# --- 2: nothing tracked ---------------------------------------------------------------------------------


def _untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
    return super(BaseModel, cls).__new__(cls)  # what moto's does, minus the tracking


# --- 4: stream retention, expiring iterators ------------------------------------------------------------


class _ExpiringIterators(OrderedDict[str, Any]):
    """moto's registry of shard iterators, forgetting each 15 minutes after it was handed out."""

    def __init__(self) -> None:
        super().__init__()
        self._issued: OrderedDict[str, float] = OrderedDict()

    def __setitem__(self, key: str, value: Any) -> None:
        now = time.monotonic()
        while self._issued:
            oldest, at = next(iter(self._issued.items()))
            if now - at < ITERATOR_LIFETIME_SECONDS:
                break
            self._issued.pop(oldest)
            self.pop(oldest, None)
        self._issued[key] = now
        super().__setitem__(key, value)


def _streams_init(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> None:
    _ORIGINALS["streams_init"](self, *args, **kwargs)
    self.shard_iterators = _ExpiringIterators()


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> Any:
    if iterator_arn not in self.shard_iterators:
        raise AwsError(
            "ExpiredIteratorException", "Iterator expired. The iterator was created over 15 minutes ago."
        )
    with WRITE_LOCK:  # never read a record of a write that may still be undone
        return _ORIGINALS["get_records"](self, iterator_arn, limit)


def trim_stream(table_name: str, through_sequence_number: int) -> int:
    """Drops the table's stream records up to and including `through_sequence_number` (the local stand-in
    for DynamoDB's 24-hour retention: the one local consumer has delivered them). Returns how many."""
    with WRITE_LOCK:
        shard = _backend("dynamodb").get_table(table_name).stream_shard
        if shard is None:
            return 0
        count = min(len(shard.items), max(0, through_sequence_number + 1 - shard.starting_sequence_number))
        del shard.items[:count]
        shard.starting_sequence_number += count  # the records kept keep their sequence numbers
        return int(count)


def stream_end(table_name: str) -> int:
    """The sequence number of the table's newest stream record (one before the first, when empty)."""
    with WRITE_LOCK:
        shard = _backend("dynamodb").get_table(table_name).stream_shard
        return 0 if shard is None else int(shard.starting_sequence_number + len(shard.items) - 1)


# --- 5: schedules, users and sends, captured ------------------------------------------------------------


def _bound(original: Any, self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = inspect.signature(original).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _schedule_definition(schedule: Any) -> dict[str, Any]:
    full = schedule.to_dict()
    keys = ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow")
    definition = {k: full[k] for k in keys if full.get(k) is not None}
    definition["Target"] = copy.deepcopy(full["Target"])
    if full.get("ActionAfterCompletion"):
        definition["ActionAfterCompletion"] = full["ActionAfterCompletion"]
    if full.get("State"):
        definition["State"] = full["State"]
    return definition


def _schedule_write(name: str) -> Callable[..., Any]:
    original = _ORIGINALS[name]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = _bound(original, self, args, kwargs)
        with WRITE_LOCK:
            result = original(self, *args, **kwargs)
            group = arguments.get("group_name") or "default"
            if name == "delete_schedule":
                _publish(ScheduleChange(group, arguments["name"], None))
            else:
                _publish(ScheduleChange(group, result.name, _schedule_definition(result)))
            return result

    return wrapper


def users_of(backend: Any, pool_id: str) -> tuple[dict[str, Any], ...]:
    pool = backend.user_pools.get(pool_id)
    if pool is None:
        return ()
    return tuple(
        {
            "attributes": [dict(a) for a in user.attributes if a["Name"] != "sub"],
            "groups": sorted(g.group_name for g in user.groups),
            "enabled": user.enabled,
        }
        for user in pool.users.values()
    )


def _users_write(name: str) -> Callable[..., Any]:
    original = _ORIGINALS[f"cognito.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = _bound(original, self, args, kwargs)
        with WRITE_LOCK:
            result = original(self, *args, **kwargs)
            pool_id = arguments.get("user_pool_id")
            if pool_id:
                _publish(UsersChange(pool_id, users_of(self, pool_id)))
            return result

    return wrapper


def _sqs_send(self: Any, *args: Any, **kwargs: Any) -> Any:
    with WRITE_LOCK:
        message = _ORIGINALS["sqs.send_message"](self, *args, **kwargs)
        queue = _bound(_ORIGINALS["sqs.send_message"], self, args, kwargs)["queue_name"]
        _publish(QueueChange(queue, message.id, message.body))
        return message


def _sqs_delete(self: Any, queue_name: str, receipt_handle: str) -> None:
    with WRITE_LOCK:
        queue = self.get_queue(queue_name)
        ids = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
        _ORIGINALS["sqs.delete_message"](self, queue_name, receipt_handle)
        for message_id in ids:
            _publish(QueueChange(queue_name, message_id, None))


# Secrets Manager calls that change a secret. Rotation is left out: it needs a rotation Lambda, which the
# local stack does not run.
SECRET_WRITES = (
    "create_secret",
    "put_secret_value",
    "update_secret",
    "update_secret_version_stage",
    "delete_secret",
    "restore_secret",
    "put_resource_policy",
    "delete_resource_policy",
    "tag_resource",
    "untag_resource",
)
# The FakeSecret attributes that make a secret what it is (the ARN keeps its random suffix, so ARNs that
# were handed out stay valid); `load_secrets` sets them back.
_SECRET_FIELDS = (
    "arn",
    "name",
    "description",
    "tags",
    "kms_key_id",
    "created_date",
    "last_changed_date",
    "deleted_date",
    "policy",
    "default_version_id",
    "versions",  # version id -> {"version_id", "version_stages", "createdate", "secret_string"/"secret_binary"}
)


def secret_state(secret: Any) -> dict[str, Any]:
    """A secret as plain JSON-able data, values included."""
    state = {name: copy.deepcopy(getattr(secret, name)) for name in _SECRET_FIELDS}
    return {"account": secret.account_id, "region": secret.region, **state}


def _secrets_write(name: str) -> Callable[..., Any]:
    original = _ORIGINALS[f"secrets.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.secretsmanager.models import FakeSecret

        arguments = _bound(original, self, args, kwargs)
        identifier = next(arguments[k] for k in ("secret_id", "name", "arn") if k in arguments)
        with WRITE_LOCK:
            before = self.secrets.get(identifier)
            result = original(self, *args, **kwargs)
            after = self.secrets.get(identifier)  # by name or ARN; None once deleted for good
            if isinstance(after, FakeSecret):
                _publish(SecretChange(self.region_name, after.name, secret_state(after)))
            elif after is None and isinstance(before, FakeSecret):
                _publish(SecretChange(self.region_name, before.name, None))
            return result

    return wrapper


# --- 6: faults and sends --------------------------------------------------------------------------------


@dataclass
class SendFaults:
    """What the embedded SES/SNS do with sends to given recipients (local tests only). A refusal holds
    for every request to that recipient, the SDK's own retries included, until it is lifted."""

    refuse_to: set[str] = field(default_factory=set)  # answered with a throttling error (as SES's 429)
    crash_on_send_to: set[str] = field(default_factory=set)  # the process dies before the send is accepted

    def before_send(self, channel: str, recipients: Iterable[str]) -> None:
        targets = {r.lower() for r in recipients}
        if targets & {r.lower() for r in self.crash_on_send_to}:
            logger.warning("fault injected: the process dies before the %s is accepted", channel)
            import os
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if targets & {r.lower() for r in self.refuse_to}:
            code = "TooManyRequestsException" if channel == "email" else "Throttling"
            raise AwsError(code, "Maximum sending rate exceeded (fault injected by the local stack).")


faults = SendFaults()
# Whether moto also keeps what was sent in its own lists: tests read them; the dev server hands every
# message to its durable outbox instead, so its memory does not grow with each email.
retain_sent_messages = True


def _ses_send(name: str) -> Callable[..., Any]:
    original = _ORIGINALS[f"ses.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        destinations = _bound(original, self, args, kwargs)["destinations"]
        if isinstance(destinations, dict):
            destinations = [a for addresses in destinations.values() for a in addresses]
        faults.before_send("email", [parseaddr(str(d))[1] for d in destinations])
        message = original(self, *args, **kwargs)
        raw = getattr(message, "raw_data", None)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "surrogateescape")
        destinations = getattr(message, "destinations", [])
        if isinstance(destinations, dict):
            destinations = [a for addresses in destinations.values() for a in addresses]
        _publish(
            Sent(
                channel="email",
                message_id=message.id,
                to=tuple(str(d) for d in destinations),
                raw=raw,
                text=None if raw is not None else getattr(message, "body", None),
                subject=None if raw is not None else getattr(message, "subject", None),
                source=getattr(message, "source", None),
            )
        )
        if not retain_sent_messages and message in self.sent_messages:
            self.sent_messages.remove(message)
        return message

    return wrapper


def _sns_publish(self: Any, *args: Any, **kwargs: Any) -> Any:
    original = _ORIGINALS["sns.publish"]
    arguments = _bound(original, self, args, kwargs)
    phone = arguments.get("phone_number")
    if phone:
        faults.before_send("sms", [phone])
    message_id = original(self, *args, **kwargs)
    if phone:
        _publish(Sent(channel="sms", message_id=message_id, to=(phone,), text=arguments["message"]))
        if not retain_sent_messages:
            self.sms_messages.pop(message_id, None)
            self.sms_message_objects.pop(message_id, None)
    return message_id


# --- 8: Step Functions executions, their Lambda tasks run in process -----------------------------------

LambdaHandler = Callable[[Any, Any], Any]  # handler(event, context), as Lambda's Python runtime calls it
RetryPause = Callable[[float], None]


@dataclass
class LambdaContext:
    """What a handler reads of its Lambda context (what Powertools reads, and the rest of the Python
    runtime's attributes)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass(frozen=True)
class _Function:
    handler: LambdaHandler
    memory_limit_in_mb: int
    timeout_seconds: float


_functions: dict[str, _Function] = {}
_retry_pause: RetryPause = time.sleep  # AWS waits for real, and so does the local stack


def function_name_of(function: str) -> str:
    """The function's name from what Lambda accepts as FunctionName: a name, a partial or full ARN, each
    with or without a version or alias."""
    if ":function:" in function:
        function = function.split(":function:", 1)[1]
    return function.split(":", 1)[0]


def register_function(
    function: str, handler: LambdaHandler, *, memory_limit_in_mb: int = 512, timeout_seconds: float = 60.0
) -> None:
    """State machine tasks that invoke `function` (a name or an ARN; any version or alias of it) call
    `handler(event, context)` in this process. `timeout_seconds` only sets what the context reports as
    remaining time: a handler is not stopped when it runs over."""
    _functions[function_name_of(function)] = _Function(handler, memory_limit_in_mb, timeout_seconds)


def unregister_function(function: str) -> None:
    _functions.pop(function_name_of(function), None)


def set_retry_pause(pause: RetryPause | None) -> RetryPause:
    """Every pause a state's Retry asks for (IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds,
    jittered when JitterStrategy is FULL) is `pause(seconds)`, on the execution's thread; None restores
    real waiting. Returns the previous pause, to put it back."""
    global _retry_pause  # noqa: PLW0603 - one hook per process, as moto's executions are
    previous = _retry_pause
    _retry_pause = pause or time.sleep
    return previous


def _lambda_error(status: int, code: str, message: str) -> Exception:
    """What boto3's Lambda client raises for an error answer; moto's tasks turn it into Lambda.<code>."""
    from botocore.exceptions import ClientError

    metadata: Any = {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}, "Invoke")


def _invoke_lambda_function(
    parameters: dict[str, Any], region: str, state_credentials: Any
) -> dict[str, Any]:
    """Replaces moto's invoke of a Lambda task (both resource styles): the registered handler, in process,
    answered as Lambda's Invoke answers (the payload parsed, as moto's does)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    requested = str(parameters.get("FunctionName", ""))
    name = function_name_of(requested)
    if requested.startswith("arn:"):
        arn = requested
    elif ":function:" in requested:
        arn = f"arn:aws:lambda:{region}:{requested}"
    else:
        arn = f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{requested}"
    function = _functions.get(name)
    if function is None:
        logger.error("a state machine invoked %s, which has no handler registered in the local stack", arn)
        raise _lambda_error(
            404,
            "ResourceNotFoundException",
            f"Function not found: {arn} (no handler is registered for it: local.moto_patches.register_function)",
        )
    payload = parameters.get("Payload")
    event = json.loads(payload) if payload else {}
    context = LambdaContext(name, arn, function.memory_limit_in_mb, function.timeout_seconds)
    response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    try:
        result = function.handler(event, context)
    except Exception as error:
        # As the Python runtime reports an unhandled exception: Step Functions' error name is errorType.
        logger.warning("%s raised %s (a Step Functions task)", name, type(error).__name__)
        stack = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])  # from the handler on
        response["FunctionError"] = "Unhandled"
        response["Payload"] = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "requestId": context.aws_request_id,
            "stackTrace": stack,
        }
        return response
    try:
        response["Payload"] = json.loads(json.dumps(result))  # the runtime sends the result as JSON
    except (TypeError, ValueError) as error:
        response["FunctionError"] = "Unhandled"
        response["Payload"] = {
            "errorMessage": f"Unable to marshal response: {error}",
            "errorType": "Runtime.MarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
    return response


def _retrier_eval_body(self: Any, env: Any) -> None:
    """moto's `RetrierDecl._eval_body`, with the pause through `_retry_pause` instead of `time.sleep`."""
    from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome

    self.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return
    self.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return
    # Each leaves the interval so far on the stack: base, x backoff, capped, jittered.
    self.interval_seconds.eval(env=env)
    self.backoff_rate.eval(env=env)
    self.max_delay_seconds.eval(env=env)
    self.jitter_strategy.eval(env=env)
    _retry_pause(float(env.stack.pop()))
    env.stack.append(RetrierOutcome.Executed)


def _start_execution(
    self: Any,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    # AWS names an unnamed execution with a UUID; moto's parser backend named them all "None".
    return _ORIGINALS["sfn.start_execution"](
        self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
    )


# --- 9: presigned POST policies enforced ----------------------------------------------------------------


def _policy_error(code: str, message: str) -> Exception:
    from moto.s3.exceptions import S3ClientError

    # Raised from outside moto's packages, the code's status comes from S3's model: AccessDenied is 403,
    # a code it lacks (EntityTooLarge, EntityTooSmall, InvalidPolicyDocument) 400, as S3 answers them.
    return S3ClientError(code, message)


def _invalid_policy(detail: str) -> Exception:
    return _policy_error("InvalidPolicyDocument", f"Invalid Policy: {detail}")


def _condition_failed(condition: list[Any]) -> Exception:
    return _policy_error(
        "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    )


def _policy_conditions(policy_field: str, now: datetime | None) -> list[Any]:
    """The conditions of a policy that has not expired; raises what S3 answers otherwise."""
    try:
        policy = json.loads(base64.b64decode(policy_field, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("expiration"), str):
        raise _invalid_policy("Invalid 'expiration' value: a policy needs an expiration.")
    try:
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy(f"Invalid 'expiration' value: '{policy['expiration']}'") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= (now or datetime.now(UTC)):  # S3's own (real) time, never the dev clock
        raise _policy_error("AccessDenied", "Invalid according to Policy: Policy expired.")
    conditions = policy.get("conditions", [])
    if not isinstance(conditions, list):
        raise _invalid_policy("Invalid 'conditions' value: must be a List.")
    return conditions


def _field_rule(condition: Any) -> list[Any]:
    """A field condition as S3 names it when it fails: [operator, "$field", value]."""
    if isinstance(condition, dict) and len(condition) == 1:
        [(name, expected)] = condition.items()
        return ["eq", f"${name}", expected]
    if (
        isinstance(condition, list)
        and len(condition) == 3
        and str(condition[0]).lower() in {"eq", "starts-with"}
        and str(condition[1]).startswith("$")
    ):
        return [str(condition[0]).lower(), condition[1], condition[2]]
    raise _invalid_policy(f"Invalid Policy condition: {json.dumps(condition)}")


def _rule_holds(rule: list[Any], values: dict[str, str]) -> bool:
    operator, name, expected = rule[0], str(rule[1])[1:].lower(), str(rule[2])
    actual = values.get(name)
    if actual is None:
        return False
    if operator == "eq":
        return actual == expected
    if name == "content-type":  # S3 allows a list of types there, each with the prefix
        return all(part.strip().startswith(expected) for part in actual.split(","))
    return actual.startswith(expected)


def check_post_policy(
    policy_field: str, fields: dict[str, str], bucket: str, file_size: int, now: datetime | None = None
) -> None:
    """Raises what S3 answers a POST form upload whose `policy` (the form field, base64 JSON) the form
    breaks: `fields` are the form's fields (names in any case), `bucket` the bucket posted to, `file_size`
    the file's size in bytes. The signature is not checked."""
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket  # the bucket is the one posted to, whatever a field says
    size_range: tuple[int, int] | None = None
    for condition in _policy_conditions(policy_field, now):
        if isinstance(condition, list) and condition and condition[0] == "content-length-range":
            try:
                size_range = (int(condition[1]), int(condition[2]))  # checked once the file is in
            except (IndexError, TypeError, ValueError):
                raise _invalid_policy(f"Invalid content-length-range: {json.dumps(condition)}") from None
            continue
        rule = _field_rule(condition)
        if not _rule_holds(rule, values):
            raise _condition_failed(rule)
    if size_range is not None and file_size > size_range[1]:
        raise _policy_error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    if size_range is not None and file_size < size_range[0]:
        raise _policy_error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")


def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
    """moto's POST to a bucket (a form upload, or DeleteObjects), with a form's policy checked first."""
    form = self.form_data  # the form's fields; `setup_class` put the file's bytes in `body`
    if "policy" in form and "key" in form:
        fields = {name: value for name, value in form.items() if name != "file"}
        body = self.body
        size = len(body.encode() if isinstance(body, str) else body or b"")
        check_post_policy(form["policy"], fields, bucket_name, size)
    return _ORIGINALS["s3.bucket_response_post"](self, request, bucket_name)


# --- restoring saved state (the local stack's persistence) --------------------------------------------


def _backend(service: str) -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID

    from local.aws import REGION

    module = __import__(f"moto.{service}.models", fromlist=["x"])
    return getattr(module, f"{service}_backends")[DEFAULT_ACCOUNT_ID][REGION]


def load_items(table_name: str, items: Iterable[dict[str, Any]]) -> None:
    """Puts saved items into a table as they were, making no stream records (they are not new)."""
    table = _backend("dynamodb").get_table(table_name)
    shard, table.stream_shard = table.stream_shard, None
    try:
        for attrs in items:
            table.put_item(attrs, overwrite=True)
    finally:
        table.stream_shard = shard


class _SavedRecord:
    def __init__(self, record: dict[str, Any]) -> None:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, str):
            change["ApproximateCreationDateTime"] = datetime.fromisoformat(created)
        self._record = {**record, "dynamodb": change}

    def to_json(self) -> dict[str, Any]:
        return self._record


def load_stream(table_name: str, next_sequence: int, records: list[dict[str, Any]]) -> None:
    """Gives a table's stream its undelivered records back, with their sequence numbers; new records
    continue the numbering, so a consumer's checkpoint stays meaningful across restarts."""
    shard = _backend("dynamodb").get_table(table_name).stream_shard
    if shard is None:
        return
    records = sorted(records, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    first = numbers[0] if numbers else next_sequence
    if numbers != list(range(first, first + len(numbers))):
        raise RuntimeError(f"the saved stream of {table_name} has gaps; run `make dev-reset`")
    shard.starting_sequence_number = first
    shard.items = [_SavedRecord(r) for r in records]


def load_schedules(definitions: Iterable[dict[str, Any]]) -> None:
    backend = _backend("scheduler")
    create = _ORIGINALS["create_schedule"]
    for d in definitions:
        if d.get("GroupName", "default") not in backend.schedule_groups:
            logger.warning("schedule %s belongs to a group that no longer exists; dropped", d["Name"])
            continue
        create(
            backend,
            description=None,
            end_date=None,
            flexible_time_window=d["FlexibleTimeWindow"],
            group_name=d.get("GroupName", "default"),
            kms_key_arn=None,
            name=d["Name"],
            schedule_expression=d["ScheduleExpression"],
            schedule_expression_timezone=d.get("ScheduleExpressionTimezone"),
            start_date=None,
            state=d.get("State"),
            target=d["Target"],
            action_after_completion=d.get("ActionAfterCompletion"),
        )


def load_queue_messages(queue_name: str, messages: dict[str, str]) -> None:
    """Puts saved messages back into a queue with their ids, as if never received."""
    from moto.sqs.models import Message

    queue = _backend("sqs").get_queue(queue_name)
    for message_id, body in messages.items():
        message = Message(message_id, body)
        message.mark_sent()
        queue.add_message(message)


def load_secrets(saved: Iterable[dict[str, Any]]) -> None:
    """Puts saved secrets (as `secret_state` gave them) back as they were: same ARN, versions and stages,
    marked deleted if they were. Publishes nothing (they are not new)."""
    from moto.secretsmanager.models import FakeSecret, secretsmanager_backends

    for data in saved:
        secret = FakeSecret(
            account_id=data["account"],
            region_name=data["region"],
            secret_id=data["name"],
            secret_version={},
            version_id="",
        )
        for name in _SECRET_FIELDS:
            setattr(secret, name, copy.deepcopy(data[name]))
        secretsmanager_backends[data["account"]][data["region"]].secrets[secret.name] = secret


# --- installing -----------------------------------------------------------------------------------------


def source_hash(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def relied_on(name: str) -> Any:
    """A moto function named as in RELIED_ON ("module:Class.function")."""
    module_name, _, path = name.partition(":")
    target: Any = __import__(module_name, fromlist=["x"])
    for part in path.split("."):
        target = getattr(target, part)
    return target


def _install_step_functions() -> None:
    from moto.core.config import default_user_config

    # 8: state machines run (moto reads this per request, so it must be on before the first one is made:
    # with it off, moto keeps state machines in another backend that never runs them).
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    _ORIGINALS["sfn.invoke_lambda_function"] = lambda_eval_utils._invoke_lambda_function
    _ORIGINALS["sfn.retrier_eval_body"] = RetrierDecl._eval_body
    _ORIGINALS["sfn.start_execution"] = StepFunctionsParserBackend.start_execution
    lambda_eval_utils._invoke_lambda_function = _invoke_lambda_function
    RetrierDecl._eval_body = _retrier_eval_body  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]


def _install_post_policies() -> None:  # 9
    from moto.s3.responses import S3Response

    _ORIGINALS["s3.bucket_response_post"] = S3Response._bucket_response_post
    S3Response._bucket_response_post = _bucket_response_post  # type: ignore[method-assign]


def install() -> None:
    """Applies every patch once per process (the embedded AWS calls it before starting moto)."""
    global _installed  # noqa: PLW0603 - once per process
    if _installed:
        return
    if moto.__version__ != MOTO_VERSION:
        logger.warning(
            "moto %s is not the version these patches were written for (%s)", moto.__version__, MOTO_VERSION
        )
    from moto.cognitoidp.models import CognitoIdpBackend
    from moto.scheduler.models import EventBridgeSchedulerBackend
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend
    from moto.sqs.models import SQSBackend

    _ORIGINALS.update(
        put_item=DynamoDBBackend.put_item,
        update_item=DynamoDBBackend.update_item,
        delete_item=DynamoDBBackend.delete_item,
        transact_write_items=DynamoDBBackend.transact_write_items,
        shard_add=StreamShard.add,
        streams_init=DynamoDBStreamsBackend.__init__,
        get_records=DynamoDBStreamsBackend.get_records,
        base_model_new=BaseModel.__new__,
        all_items=Table.all_items,
        table_query=Table.query,
    )
    for name in ("create_schedule", "update_schedule", "delete_schedule"):
        _ORIGINALS[name] = getattr(EventBridgeSchedulerBackend, name)
        setattr(EventBridgeSchedulerBackend, name, _schedule_write(name))
    for name in COGNITO_USER_WRITES:
        _ORIGINALS[f"cognito.{name}"] = getattr(CognitoIdpBackend, name)
        setattr(CognitoIdpBackend, name, _users_write(name))
    for name in ("send_raw_email", "send_email"):
        _ORIGINALS[f"ses.{name}"] = getattr(SESBackend, name)
        setattr(SESBackend, name, _ses_send(name))
    _ORIGINALS["sns.publish"] = SNSBackend.publish
    SNSBackend.publish = _sns_publish  # type: ignore[method-assign]
    _ORIGINALS["sqs.send_message"] = SQSBackend.send_message
    _ORIGINALS["sqs.delete_message"] = SQSBackend.delete_message
    SQSBackend.send_message = _sqs_send  # type: ignore[method-assign]
    SQSBackend.delete_message = _sqs_delete  # type: ignore[method-assign]
    for name in SECRET_WRITES:
        _ORIGINALS[f"secrets.{name}"] = getattr(SecretsManagerBackend, name)
        setattr(SecretsManagerBackend, name, _secrets_write(name))

    _install_step_functions()
    _install_post_policies()

    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    from moto.core.model_instances import model_data

    for models in model_data.values():
        for model in models.values():
            model.instances_tracked = []  # type: ignore[attr-defined]
    DynamoDBBackend.put_item = _put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    DynamoDBStreamsBackend.__init__ = _streams_init  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]
    _installed = True


def original(name: str) -> Any:
    """The moto function as it was before `install` (for the upgrade check)."""
    return _ORIGINALS[name]
