"""DynamoDB: patches 1 (TransactWriteItems without table copies), 3 (writes one at a time), 5 (each
committed write published as a `Commit`) and 7 (a Query reads only its partition), and restoring saved
items (`load_items`).

Every write call (PutItem, UpdateItem, DeleteItem, TransactWriteItems) runs under `WRITE_LOCK` as one
`_write_call`: it remembers each item's state before the call first writes it, and the stream records the
call adds, so a call that fails is undone exactly and one that succeeds is published whole."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

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

from local.moto._support import WRITE_LOCK, bound
from local.moto.backends import backend
from local.moto.events import Commit, ItemChange, StreamAppend, publish
from local.moto.installing import ORIGINALS

# --- 1, 3 and 5: writes one at a time, all or nothing, captured ------------------------------------------


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


def _touch(dynamodb: DynamoDBBackend, table_name: str, attrs: dict[str, Any]) -> None:
    """Remembers the item's state before the current call first writes it (for undo and capture)."""
    call = _current_call()
    if call is None:
        return
    try:
        table = dynamodb.get_table(table_name)
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
                publish(commit)
        finally:
            _local.call = None


def _put_item(
    self: DynamoDBBackend, table_name: str, item_attrs: dict[str, Any], *args: Any, **kw: Any
) -> Any:
    with _write_call():
        _touch(self, table_name, item_attrs)
        return ORIGINALS["put_item"](self, table_name, item_attrs, *args, **kw)


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
    with _write_call():
        _touch(self, table_name, key)
        return ORIGINALS["update_item"](self, table_name, key, *args, **kw)


def _delete_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
    with _write_call():
        _touch(self, table_name, key)
        return ORIGINALS["delete_item"](self, table_name, key, *args, **kw)


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
    ORIGINALS["shard_add"](self, old, new)
    if call is not None and self.items:
        call.stream.append(StreamAppend(self.table.name, self.items[-1].to_json()))


# --- 7: a query reads its partition, not the whole table ---------------------------------------------


def _all_items(self: Table) -> list[Item]:
    partition = getattr(_local, "partition", None)
    if partition is not None and partition[0] is self:
        return list(partition[1])
    return list(ORIGINALS["all_items"](self))


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    """moto answers a Query on the table (not an index) by sorting every item of the table and keeping
    those of the partition, so each query costs more as the table fills. Handing it only the partition
    (what its filter would keep, in the same order) gives the same answer. Per thread: reads run
    concurrently."""
    index_name = bound(ORIGINALS["table_query"], self, (hash_key, *args), kwargs).get("index_name")
    if index_name is not None or hash_key is None or not self.range_key_attr:
        return ORIGINALS["table_query"](self, hash_key, *args, **kwargs)
    items = self.items.get(hash_key, {})
    _local.partition = (self, sorted(items.values(), key=lambda item: (item.hash_key, item.range_key)))
    try:
        return ORIGINALS["table_query"](self, hash_key, *args, **kwargs)
    finally:
        _local.partition = None


# --- restoring saved state ------------------------------------------------------------------------------


def load_items(table_name: str, items: Iterable[dict[str, Any]]) -> None:
    """Puts saved items into a table as they were, making no stream records (they are not new)."""
    table = backend("dynamodb").get_table(table_name)
    shard, table.stream_shard = table.stream_shard, None
    try:
        for attrs in items:
            table.put_item(attrs, overwrite=True)
    finally:
        table.stream_shard = shard


def apply() -> None:
    ORIGINALS.update(
        put_item=DynamoDBBackend.put_item,
        update_item=DynamoDBBackend.update_item,
        delete_item=DynamoDBBackend.delete_item,
        transact_write_items=DynamoDBBackend.transact_write_items,
        shard_add=StreamShard.add,
        all_items=Table.all_items,
        table_query=Table.query,
    )
    DynamoDBBackend.put_item = _put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
