"""The local stack's journal and snapshot (`local/persistence.py`): what is replayed after a crash, what a
compaction keeps, that the previous format still loads, and secrets written through the embedded AWS
coming back after a restart."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws import EmbeddedAws, LocalResources
from local.persistence import (
    CHECKPOINT_FILE,
    Journal,
    State,
    Store,
    compact,
    load_state,
    segment_path,
    segments,
)


def keys(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]} if table == "BookingTable" else {"id": item["id"]}


def item(pk: str, sk: str, **values: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in values.items()}}


def record(sequence: int, pk: str) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": str(sequence),
            "Keys": {"pk": {"S": pk}, "sk": {"S": "BOOKING"}},
            "ApproximateCreationDateTime": "2026-11-30T10:00:00",
        },
    }


def write(data_dir: Path, segment: int, entries: list[dict[str, Any]]) -> Journal:
    directory = data_dir / "state"
    directory.mkdir(parents=True, exist_ok=True)
    journal = Journal(directory, segment)
    for entry in entries:
        journal.append(entry)
    return journal


def test_an_empty_directory_has_no_state(tmp_path: Path) -> None:
    assert load_state(tmp_path, keys) is None


def test_the_journal_replays_puts_deletes_stream_records_schedules_and_users(tmp_path: Path) -> None:
    key = {"pk": {"S": "T#1#BOOKING#b1"}, "sk": {"S": "BOOKING"}}
    gone = {"pk": {"S": "T#1#LOCK#s"}, "sk": {"S": "2026"}}
    write(
        tmp_path,
        0,
        [
            {"ddb": [["BookingTable", key, item("T#1#BOOKING#b1", "BOOKING", v="1")]], "stream": []},
            {"ddb": [["BookingTable", gone, item("T#1#LOCK#s", "2026")]], "stream": []},
            {
                "ddb": [
                    ["BookingTable", key, item("T#1#BOOKING#b1", "BOOKING", v="2")],
                    ["BookingTable", gone, None],
                ],
                "stream": [["BookingTable", record(7, "T#1#BOOKING#b1")]],
            },
            {
                "schedule": [
                    "g",
                    "rem-1",
                    {"Name": "rem-1", "GroupName": "g", "ScheduleExpression": "at(2026-12-01T10:00:00)"},
                ]
            },
            {
                "schedule": [
                    "g",
                    "rem-2",
                    {"Name": "rem-2", "GroupName": "g", "ScheduleExpression": "at(2026-12-01T11:00:00)"},
                ]
            },
            {"schedule": ["g", "rem-1", None]},
            {"users": ["pool", [{"attributes": [{"Name": "email", "Value": "a@b.c"}], "groups": ["owner"]}]]},
        ],
    ).close()

    state = load_state(tmp_path, keys)

    assert state is not None
    assert list(state.tables["BookingTable"].values()) == [item("T#1#BOOKING#b1", "BOOKING", v="2")]
    assert state.streams["BookingTable"]["next"] == 8
    assert [r["dynamodb"]["SequenceNumber"] for r in state.streams["BookingTable"]["records"]] == ["7"]
    assert list(state.schedules) == ["g/rem-2"]
    assert state.users["pool"][0]["groups"] == ["owner"]


def test_a_line_torn_by_a_crash_is_ignored_and_everything_before_it_kept(tmp_path: Path) -> None:
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    write(tmp_path, 0, [{"ddb": [["BookingTable", key, item("p", "s")]], "stream": []}]).close()
    with segment_path(tmp_path / "state", 0).open("ab") as journal:
        journal.write(b'{"ddb": [["BookingTable", {"pk"')  # the process died mid-write

    state = load_state(tmp_path, keys)

    assert state is not None and len(state.tables["BookingTable"]) == 1


def test_compaction_folds_segments_into_the_snapshot_and_drops_delivered_stream_records(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        0,
        [
            {
                "ddb": [["BookingTable", {"pk": {"S": "a"}, "sk": {"S": "1"}}, item("a", "1")]],
                "stream": [["BookingTable", record(10, "a")]],
            },
            {
                "ddb": [["BookingTable", {"pk": {"S": "b"}, "sk": {"S": "1"}}, item("b", "1")]],
                "stream": [["BookingTable", record(11, "b")]],
            },
        ],
    ).close()
    write(
        tmp_path, 1, [{"ddb": [["IdempotencyTable", {"id": {"S": "k"}}, {"id": {"S": "k"}}]], "stream": []}]
    ).close()
    (tmp_path / CHECKPOINT_FILE).write_text(json.dumps({"tables": {"BookingTable": "10"}}))

    compact(tmp_path, through_segment=0)

    assert segments(tmp_path / "state") == [1]  # the open segment stays
    snapshot = json.loads((tmp_path / "state" / "snapshot.json").read_text())
    assert snapshot["through_segment"] == 0
    assert [r["dynamodb"]["SequenceNumber"] for r in snapshot["streams"]["BookingTable"]["records"]] == ["11"]
    state = load_state(tmp_path, keys)
    assert state is not None
    assert set(state.tables) == {"BookingTable", "IdempotencyTable"}  # snapshot plus segment 1
    assert state.streams["BookingTable"]["next"] == 12
    assert state.through_segment == 1


def test_a_compaction_that_died_before_deleting_segments_does_not_apply_them_twice(tmp_path: Path) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    write(
        tmp_path,
        0,
        [{"ddb": [["BookingTable", key, item("a", "1")]], "stream": [["BookingTable", record(5, "a")]]}],
    ).close()
    compact(tmp_path, through_segment=0)
    write(tmp_path, 0, [{"ddb": [["BookingTable", key, None]], "stream": []}]).close()  # a stale segment 0

    state = load_state(tmp_path, keys)

    assert state is not None and len(state.tables["BookingTable"]) == 1


def test_a_snapshot_of_the_previous_format_still_loads(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text(
        json.dumps(
            {
                "version": 1,
                "tables": {"BookingTable": [item("p", "s")]},
                "users": [{"attributes": [{"Name": "email", "Value": "a@b.c"}], "groups": ["staff"]}],
                "schedules": [
                    {"Name": "rem-1", "GroupName": "g", "ScheduleExpression": "at(2026-12-01T10:00:00)"}
                ],
            }
        )
    )

    state = load_state(tmp_path, keys)

    assert state is not None
    assert list(state.tables["BookingTable"].values()) == [item("p", "s")]
    assert state.users[""][0]["groups"] == ["staff"]  # the one pool the stack provisions
    assert list(state.schedules) == ["g/rem-1"]
    assert State().to_json()["version"] == 2


def test_an_outbox_line_torn_by_a_kill_is_dropped_and_the_next_message_is_kept(tmp_path: Path) -> None:
    from local.clock import DevClock
    from local.moto import Sent
    from local.outbox import Outbox

    (tmp_path / "outbox.jsonl").write_text(
        '{"id": "1", "channel": "sms", "to": ["+44"], "text": "a"}\n{"id": "2", "chan'
    )
    outbox = Outbox(tmp_path, DevClock(tmp_path))
    outbox._record(Sent(channel="sms", message_id="3", to=("+447911123456",), text="hello"))

    assert [entry["id"] for entry in outbox.entries()] == ["3", "1"]


def secret(name: str, value: str, version: str) -> dict[str, Any]:
    """A secret as `local.moto.secret_state` saves it."""
    return {
        "account": "123456789012",
        "region": "eu-west-1",
        "arn": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf",
        "name": name,
        "description": None,
        "tags": None,
        "kms_key_id": None,
        "created_date": 1,
        "last_changed_date": 2,
        "deleted_date": None,
        "policy": None,
        "default_version_id": version,
        "versions": {
            version: {
                "version_id": version,
                "version_stages": ["AWSCURRENT"],
                "createdate": 2,
                "secret_string": value,
            }
        },
    }


def test_the_journal_replays_secrets_to_their_latest_value_and_a_compaction_keeps_them_private(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        0,
        [
            {"secret": ["eu-west-1", "zoom", secret("zoom", "v1", "a")]},
            {"secret": ["eu-west-1", "whereby", secret("whereby", "w1", "c")]},
            {"secret": ["eu-west-1", "zoom", secret("zoom", "v2", "b")]},
            {"secret": ["eu-west-1", "whereby", None]},
        ],
    ).close()
    assert stat.S_IMODE(segment_path(tmp_path / "state", 0).stat().st_mode) == 0o600  # it holds credentials

    compact(tmp_path, through_segment=0)
    state = load_state(tmp_path, keys)

    assert state is not None
    assert list(state.secrets) == ["eu-west-1/zoom"]
    assert state.secrets["eu-west-1/zoom"]["versions"]["b"]["secret_string"] == "v2"
    snapshot = tmp_path / "state" / "snapshot.json"
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600


@pytest.mark.parametrize("ending", ["killed", "stopped"])
def test_secrets_written_through_the_embedded_aws_survive_a_restart(
    embedded_aws: tuple[EmbeddedAws, LocalResources],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    ending: str,
) -> None:
    """Created, updated, deleted for good and scheduled for deletion: after a restart each is as the last
    acknowledged write left it, under the ARN handed out before, whether the process was killed (the
    journal alone) or stopped (compacted into the snapshot)."""
    aws, resources = embedded_aws
    client = aws.client("secretsmanager")
    prefix = f"persistence-{secrets.token_hex(4)}"
    data_dir, killed_copy = tmp_path / "data", tmp_path / "after-kill"
    caplog.set_level(logging.DEBUG)
    store = Store(data_dir, aws, resources.user_pool_id)
    store.start()
    try:
        kept = client.create_secret(Name=f"{prefix}/zoom", SecretString='{"client_secret": "first-s3cr3t"}')
        client.put_secret_value(SecretId=kept["ARN"], SecretString='{"client_secret": "latest-s3cr3t"}')
        gone = client.create_secret(Name=f"{prefix}/whereby", SecretString="gone-s3cr3t")
        client.delete_secret(SecretId=gone["ARN"], ForceDeleteWithoutRecovery=True)
        pending = client.create_secret(Name=f"{prefix}/teams", SecretString="pending-s3cr3t")
        client.delete_secret(SecretId=pending["ARN"], RecoveryWindowInDays=7)
        if ending == "killed":  # what kill -9 leaves: the journal as written, no compaction
            shutil.copytree(data_dir, killed_copy)
    finally:
        store.stop()
    # The restarted process starts empty (only this test's secrets are dropped: others share the server).
    for name in (kept["Name"], pending["Name"]):
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

    assert Store(killed_copy if ending == "killed" else data_dir, aws, resources.user_pool_id).restore()

    try:
        current = client.get_secret_value(SecretId=kept["ARN"])  # the ARN handed out before the restart
        assert json.loads(current["SecretString"]) == {"client_secret": "latest-s3cr3t"}
        previous = client.get_secret_value(SecretId=kept["Name"], VersionStage="AWSPREVIOUS")
        assert json.loads(previous["SecretString"]) == {"client_secret": "first-s3cr3t"}
        with pytest.raises(ClientError) as deleted:
            client.get_secret_value(SecretId=gone["Name"])
        assert deleted.value.response["Error"]["Code"] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as scheduled:
            client.get_secret_value(SecretId=pending["ARN"])
        assert scheduled.value.response["Error"]["Code"] == "InvalidRequestException"  # still marked deleted
        assert "DeletedDate" in client.describe_secret(SecretId=pending["ARN"])
    finally:
        for name in (kept["Name"], pending["Name"]):
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    # Values are journaled, never logged by the stack or the embedded AWS (botocore's own debug log of the
    # client's requests is the client's).
    stack_logs = [r.getMessage() for r in caplog.records if not r.name.startswith(("botocore", "urllib3"))]
    assert not [line for line in stack_logs if "s3cr3t" in line]
