"""Keeps the embedded AWS's state across restarts, and loses no acknowledged write, not even to `kill -9`.

Files in `<data dir>/state/`:

- `journal-<n>.jsonl`: one line per committed change, written to the operating system inside the
  embedded AWS's request, before it answers (moto publishes each change to us under its write lock, see
  `local/moto/`): a DynamoDB write (each item's new image, and the stream records it made), a
  schedule created or deleted, the users of a pool after a change, a dead letter queued or deleted, a
  secret after a change (its values included: never log an entry). Written with a plain `write`: the
  bytes survive the process being killed; a power cut may lose the last lines (no fsync per write).
- `snapshot.json`: the state as of the end of journal segment N. Like the journal, readable by its owner
  only (it holds secrets). A compaction, run in a child process so
  the dev server's memory never holds two copies, folds the finished segments into a new snapshot (temp
  file and rename, so a crash leaves the previous one) and deletes them. Stream records the dispatcher
  has delivered (its checkpoint) are dropped then.

At start the snapshot is loaded, later segments are replayed over it (a torn last line from a crash is
ignored), and the result is put into moto directly: items without making new stream records, the stream's
undelivered records with their sequence numbers, so the dispatcher resumes at its checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.moto import (
    Commit,
    QueueChange,
    ScheduleChange,
    SecretChange,
    UsersChange,
    load_items,
    load_queue_messages,
    load_schedules,
    load_secrets,
    load_stream,
    subscribe,
)

logger = logging.getLogger("local.persistence")
SNAPSHOT_VERSION = 2
# Locally every restored user gets this password: the demo's users have it anyway. Local only.
LOCAL_PASSWORD = "Local-dev-Passw0rd!"
SEGMENT_BYTES = 32 * 1024 * 1024  # a journal segment this large is closed and compacted
CHECKPOINT_FILE = "stream-checkpoint.json"  # written by the dispatcher: last delivered sequence per table


def _key_id(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def _stream_record_for_journal(record: dict[str, Any]) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, str | int | float):
        change["ApproximateCreationDateTime"] = created.isoformat()
    return {**record, "dynamodb": change}


@dataclass
class State:
    """What the embedded AWS holds that must outlive the process, as plain JSON-able data."""

    through_segment: int = -1  # the last journal segment folded into this state
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # table -> key -> item
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> {"next", "records"}
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)  # "group/name" -> definition
    users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # pool id -> users
    queues: dict[str, dict[str, str]] = field(default_factory=dict)  # queue name -> message id -> body
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # "region/name" -> secret_state(...)

    def apply(self, entry: dict[str, Any]) -> None:
        for table, key, item in entry.get("ddb", ()):
            items = self.tables.setdefault(table, {})
            if item is None:
                items.pop(_key_id(key), None)
            else:
                items[_key_id(key)] = item
        for table, record in entry.get("stream", ()):
            stream = self.streams.setdefault(table, {"next": 0, "records": []})
            sequence = int(record["dynamodb"]["SequenceNumber"])
            stream["records"].append(record)
            stream["next"] = max(stream["next"], sequence + 1)
        if "schedule" in entry:
            group, name, definition = entry["schedule"]
            if definition is None:
                self.schedules.pop(f"{group}/{name}", None)
            else:
                self.schedules[f"{group}/{name}"] = definition
        if "users" in entry:
            pool, users = entry["users"]
            self.users[pool] = users
        if "queue" in entry:
            queue, message_id, body = entry["queue"]
            messages = self.queues.setdefault(queue, {})
            if body is None:
                messages.pop(message_id, None)
            else:
                messages[message_id] = body
        if "secret" in entry:
            region, name, secret = entry["secret"]
            if secret is None:
                self.secrets.pop(f"{region}/{name}", None)
            else:
                self.secrets[f"{region}/{name}"] = secret

    def drop_delivered(self, checkpoints: dict[str, int]) -> None:
        for table, stream in self.streams.items():
            delivered = checkpoints.get(table)
            if delivered is not None:
                stream["records"] = [
                    r for r in stream["records"] if int(r["dynamodb"]["SequenceNumber"]) > delivered
                ]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "through_segment": self.through_segment,
            "tables": {name: list(items.values()) for name, items in self.tables.items()},
            "streams": self.streams,
            "schedules": list(self.schedules.values()),
            "users": self.users,
            "queues": self.queues,
            "secrets": list(self.secrets.values()),
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], table_keys: Callable[[str, dict[str, Any]], dict[str, Any]]
    ) -> State:
        state = cls(through_segment=data.get("through_segment", -1))
        for name, items in data["tables"].items():
            state.tables[name] = {_key_id(table_keys(name, item)): item for item in items}
        state.streams = data.get("streams", {})
        for definition in data.get("schedules", []):
            state.schedules[f"{definition.get('GroupName', 'default')}/{definition['Name']}"] = definition
        users = data.get("users", {})
        # version 1 kept one list for the one pool; it is the pool the stack provisions (see `restore`)
        state.users = users if isinstance(users, dict) else {"": users}
        state.queues = data.get("queues", {})
        for secret in data.get("secrets", []):
            state.secrets[f"{secret['region']}/{secret['name']}"] = secret
        return state


class Journal:
    """Append-only segments; `append` returns once the line is with the operating system."""

    def __init__(self, directory: Path, segment: int) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self.segment = segment
        self._fd = self._open(segment)
        self.size = os.fstat(self._fd).st_size

    def _open(self, segment: int) -> int:
        return os.open(segment_path(self._directory, segment), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, entry: dict[str, Any]) -> None:
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self.size += len(data)

    def rotate(self) -> int:
        """Starts the next segment; returns the number of the one just finished."""
        with self._lock:
            finished = self.segment
            os.close(self._fd)
            self.segment += 1
            self._fd = self._open(self.segment)
            self.size = 0
            return finished

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


def segment_path(directory: Path, segment: int) -> Path:
    return directory / f"journal-{segment:06d}.jsonl"


def segments(directory: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in directory.glob("journal-*.jsonl"))


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                logger.warning("%s ends in a torn line (a crash mid-write); it is ignored", path.name)
                return
            yield json.loads(line)


def read_checkpoints(data_dir: Path) -> dict[str, int]:
    """Per table, the last stream record that may be dropped: delivered, and not held for a redrive."""
    path = data_dir / CHECKPOINT_FILE
    if not path.exists():
        return {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    delivered = {table: int(seq) for table, seq in saved["tables"].items()}
    for table, first_held in saved.get("held", {}).items():
        delivered[table] = min(delivered.get(table, int(first_held) - 1), int(first_held) - 1)
    return delivered


def load_state(data_dir: Path, table_keys: Callable[[str, dict[str, Any]], dict[str, Any]]) -> State | None:
    """The snapshot with every later journal segment applied; None when the directory has no state."""
    directory = data_dir / "state"
    snapshot = directory / "snapshot.json"
    legacy = data_dir / "snapshot.json"  # version 1: one file, rewritten on change (before the journal)
    state: State | None = None
    for path in (snapshot, legacy):
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") not in (1, SNAPSHOT_VERSION):
                raise RuntimeError(f"{path} has an unknown snapshot format; run `make dev-reset`")
            state = State.from_json(data, table_keys)
            break
    later = (
        [n for n in segments(directory) if state is None or n > state.through_segment]
        if directory.exists()
        else []
    )
    if state is None and not later:
        return None
    state = state or State()
    for number in later:
        for entry in read_segment(segment_path(directory, number)):
            state.apply(entry)
        state.through_segment = number
    return state


def compact(data_dir: Path, through_segment: int) -> None:
    """Folds segments up to `through_segment` into a new snapshot and deletes them (run in a child)."""
    directory = data_dir / "state"
    snapshot = directory / "snapshot.json"
    keys = _table_keys_from_template()
    state = State()
    if snapshot.exists():
        state = State.from_json(json.loads(snapshot.read_text(encoding="utf-8")), keys)
    done = [n for n in segments(directory) if state.through_segment < n <= through_segment]
    for number in done:
        for entry in read_segment(segment_path(directory, number)):
            state.apply(entry)
        state.through_segment = number
    state.drop_delivered(read_checkpoints(data_dir))
    tmp = snapshot.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a crashed compaction's; recreated below with the private mode
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        json.dump(state.to_json(), out, separators=(",", ":"))
    os.replace(tmp, snapshot)
    for number in [n for n in segments(directory) if n <= through_segment]:
        segment_path(directory, number).unlink(missing_ok=True)
    (data_dir / "snapshot.json").unlink(missing_ok=True)  # a version-1 snapshot is folded in now


def _table_keys_from_template() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    from local.template import table_definitions

    schemas = {
        t.create_args["TableName"]: [k["AttributeName"] for k in t.create_args["KeySchema"]]
        for t in table_definitions()
    }
    return lambda table, item: {name: item[name] for name in schemas[table]}


class Store:
    """The durable side of the embedded AWS in one data directory."""

    def __init__(self, data_dir: Path, aws: Any, user_pool_id: str) -> None:
        self._data_dir = data_dir
        self._directory = data_dir / "state"
        self._aws = aws
        self._pool = user_pool_id
        self._journal: Journal | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._compactor: subprocess.Popen[bytes] | None = None
        self._next_segment = 0
        self._directory.mkdir(parents=True, exist_ok=True)

    # --- restore ---------------------------------------------------------------------------------------

    def restore(self) -> bool:
        """Puts the saved state into the (freshly provisioned, empty) embedded AWS. False when none."""
        state = load_state(self._data_dir, _table_keys_from_template())
        if state is None:
            return False
        for table, items in state.tables.items():
            load_items(table, items.values())
        for table, stream in state.streams.items():
            load_stream(table, stream["next"], stream["records"])
        load_schedules(state.schedules.values())
        for pool, users in state.users.items():
            self._restore_users(users if pool in ("", self._pool) else [])
        for queue, messages in state.queues.items():
            load_queue_messages(queue, messages)
        load_secrets(state.secrets.values())
        self._next_segment = state.through_segment + 1
        return True

    def _restore_users(self, users: list[dict[str, Any]]) -> None:
        cognito = self._aws.client("cognito-idp")
        for user in users:
            email = next(a["Value"] for a in user["attributes"] if a["Name"] == "email")
            cognito.admin_create_user(
                UserPoolId=self._pool,
                Username=email,
                UserAttributes=user["attributes"],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=self._pool, Username=email, Password=LOCAL_PASSWORD, Permanent=True
            )
            for group in user["groups"]:
                cognito.admin_add_user_to_group(UserPoolId=self._pool, Username=email, GroupName=group)
            if user.get("enabled") is False:
                cognito.admin_disable_user(UserPoolId=self._pool, Username=email)

    # --- journal ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """From now on every committed change is journaled before the embedded AWS acknowledges it."""
        existing = segments(self._directory)
        first = max([self._next_segment, *(n + 1 for n in existing)])
        self._journal = Journal(self._directory, first)
        self._unsubscribe = [
            subscribe(Commit, self._on_commit),
            subscribe(ScheduleChange, self._on_schedule),
            subscribe(UsersChange, self._on_users),
            subscribe(QueueChange, self._on_queue),
            subscribe(SecretChange, self._on_secret),
        ]

    def _append(self, entry: dict[str, Any]) -> None:
        assert self._journal is not None
        self._journal.append(entry)
        if self._journal.size >= SEGMENT_BYTES:
            self._compact_in_background()

    def _on_commit(self, commit: Commit) -> None:
        self._append(
            {
                "ddb": [[c.table, c.key, c.item] for c in commit.items],
                "stream": [[s.table, _stream_record_for_journal(s.record)] for s in commit.stream],
            }
        )

    def _on_schedule(self, change: ScheduleChange) -> None:
        self._append({"schedule": [change.group, change.name, change.definition]})

    def _on_users(self, change: UsersChange) -> None:
        self._append({"users": [change.pool_id, list(change.users)]})

    def _on_queue(self, change: QueueChange) -> None:
        self._append({"queue": [change.queue, change.message_id, change.body]})

    def _on_secret(self, change: SecretChange) -> None:
        self._append({"secret": [change.region, change.name, change.secret]})

    # --- compaction ------------------------------------------------------------------------------------

    def _compact_in_background(self) -> None:
        if self._compactor is not None and self._compactor.poll() is None:
            return  # one at a time; the next segment that fills up starts the next one
        assert self._journal is not None
        finished = self._journal.rotate()
        self._compactor = subprocess.Popen(
            [sys.executable, "-m", "local.persistence", str(self._data_dir), str(finished)],
            cwd=Path(__file__).resolve().parents[1],
        )

    def stop(self) -> None:
        """Stops journaling and folds the journal into the snapshot, so the next start is quick."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._compactor is not None:
            self._compactor.wait()
        if self._journal is not None:
            self._journal.close()
            compact(self._data_dir, self._journal.segment)
            self._journal = None


if __name__ == "__main__":  # the compactor: python -m local.persistence <data dir> <last segment>
    logging.basicConfig(level=logging.INFO)
    compact(Path(sys.argv[1]), int(sys.argv[2]))
