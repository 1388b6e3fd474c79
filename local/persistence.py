"""Keeps the embedded AWS's state across restarts.

moto holds everything in memory, so the local stack writes a snapshot of every table and every Cognito
user to its data directory whenever something changed (checked twice a second) and on shutdown, and
restores it on start. The snapshot is written to a temporary file and renamed, so a crash mid-write
leaves the previous snapshot intact.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import boto3

logger = logging.getLogger("local.persistence")
SNAPSHOT_VERSION = 1
# Locally every restored user gets this password: moto cannot export password hashes. Local only.
LOCAL_PASSWORD = "Local-dev-Passw0rd!"
_READ_ONLY = ("Get", "Query", "Scan", "Describe", "List", "BatchGet", "TransactGet", "InitiateAuth")


class Snapshotter:
    def __init__(
        self, data_dir: Path, aws: Any, table_names: tuple[str, ...], user_pool_id: str, schedule_group: str
    ) -> None:
        self._file = data_dir / "snapshot.json"
        self._aws = aws
        self._tables = table_names
        self._pool = user_pool_id
        self._group = schedule_group
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    # --- change tracking ------------------------------------------------------------------------------

    def watch_default_session(self) -> None:
        """Marks the state dirty after any write made through boto3's default session (what the app uses)."""
        session = boto3._get_default_session()
        session.events.register("after-call.dynamodb", self._on_call)
        session.events.register("after-call.cognito-identity-provider", self._on_call)
        session.events.register("after-call.scheduler", self._on_call)

    def _on_call(self, model: Any = None, **_: Any) -> None:
        # Cognito's admin reads (AdminGetUser, AdminListGroupsForUser...) are reads too; without this, the
        # snapshot's own AdminListGroupsForUser calls marked it dirty again and it was rewritten forever.
        if model is not None and not model.name.removeprefix("Admin").startswith(_READ_ONLY):
            self._dirty.set()

    def mark_dirty(self) -> None:
        self._dirty.set()

    # --- save and restore -----------------------------------------------------------------------------

    def save(self) -> None:
        with self._lock:
            self._dirty.clear()
            snapshot = {
                "version": SNAPSHOT_VERSION,
                "tables": self._dump_tables(),
                "users": self._dump_users(),
                "schedules": self._dump_schedules(),
            }
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(json.dumps(snapshot), encoding="utf-8")
            os.replace(tmp, self._file)

    def restore(self) -> bool:
        """Loads the snapshot into the (empty) embedded AWS. False when there is none."""
        if not self._file.exists():
            return False
        snapshot = json.loads(self._file.read_text(encoding="utf-8"))
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise RuntimeError(f"{self._file} has an unknown snapshot format; run `make dev-reset`")
        dynamodb = self._aws.client("dynamodb")
        for table, items in snapshot["tables"].items():
            for start in range(0, len(items), 25):
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                pending: dict[str, Any] = {table: requests}
                while pending:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        self._restore_users(snapshot["users"])
        self._restore_schedules(snapshot.get("schedules", []))
        return True

    def _dump_tables(self) -> dict[str, list[dict[str, Any]]]:
        dynamodb = self._aws.client("dynamodb")
        dump: dict[str, list[dict[str, Any]]] = {}
        for table in self._tables:
            items: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                items.extend(page["Items"])
            dump[table] = items
        return dump

    def _dump_users(self) -> list[dict[str, Any]]:
        cognito = self._aws.client("cognito-idp")
        users = []
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=self._pool):
            for user in page["Users"]:
                groups = cognito.admin_list_groups_for_user(UserPoolId=self._pool, Username=user["Username"])
                users.append(
                    {
                        "attributes": [a for a in user["Attributes"] if a["Name"] != "sub"],
                        "groups": [g["GroupName"] for g in groups["Groups"]],
                    }
                )
        return users

    def _dump_schedules(self) -> list[dict[str, Any]]:
        scheduler = self._aws.client("scheduler")
        fields = (
            "Name",
            "GroupName",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "FlexibleTimeWindow",
            "Target",
            "ActionAfterCompletion",
        )
        schedules = []
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=self._group):
            for summary in page["Schedules"]:
                try:
                    found = scheduler.get_schedule(Name=summary["Name"], GroupName=self._group)
                except scheduler.exceptions.ResourceNotFoundException:
                    continue  # fired and deleted since it was listed
                schedules.append({key: found[key] for key in fields if key in found})
        return schedules

    def _restore_schedules(self, schedules: list[dict[str, Any]]) -> None:
        scheduler = self._aws.client("scheduler")
        for schedule in schedules:
            scheduler.create_schedule(**schedule)

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

    # --- background flushing --------------------------------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                if self._dirty.is_set():
                    try:
                        self.save()
                    except Exception:  # keep snapshotting: the next change retries, and stop() saves too
                        self._dirty.set()
                        logger.exception("snapshot failed; will retry")

        self._thread = threading.Thread(target=loop, name="snapshotter", daemon=True)
        self._thread.start()
        if threading.current_thread() is threading.main_thread():
            # uvicorn shuts down gracefully on SIGTERM and then re-raises it; with the default handler the
            # process would die there, before the caller's `finally: stop()`, losing the last writes.
            signal.signal(signal.SIGTERM, _exit_on_sigterm)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.save()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)
