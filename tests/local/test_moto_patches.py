"""The embedded AWS's fixes to moto (`local/moto/`), through boto3 against the running server, as
the application talks to it: all-or-nothing transactions without table copies, a stream that keeps
flowing after a failed transaction, no tracked instances, bounded memory, presigned POST policies checked,
and an alarm when moto changes."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import moto
import pytest
from botocore.exceptions import ClientError
from moto.s3.exceptions import S3ClientError

from local import moto as moto_patches
from local.aws import EmbeddedAws, LocalResources
from local.moto import streams as moto_streams

Aws = tuple[EmbeddedAws, LocalResources]


@pytest.fixture
def dynamodb(embedded_aws: Aws) -> Any:
    return embedded_aws[0].client("dynamodb")


@pytest.fixture
def table(resources: LocalResources) -> str:
    return resources.table_name


@pytest.fixture
def prefix() -> str:
    return f"patch-test-{secrets.token_hex(4)}"


def put(table: str, pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def get(dynamodb: Any, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    return found


class StreamReader:
    """Follows the table's stream from now on, as the dispatcher does."""

    def __init__(self, aws: EmbeddedAws, table: str) -> None:
        self._streams = aws.client("dynamodbstreams")
        arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]

    def keys(self, prefix: str) -> list[tuple[str, str, str]]:
        response = self._streams.get_records(ShardIterator=self._iterator)
        self._iterator = response["NextShardIterator"]
        return [
            (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"])
            for r in response["Records"]
            if r["dynamodb"]["Keys"]["pk"]["S"].startswith(prefix)
        ]


@pytest.fixture
def commits() -> Iterator[list[moto_patches.Commit]]:
    seen: list[moto_patches.Commit] = []
    unsubscribe = moto_patches.subscribe(moto_patches.Commit, seen.append)
    yield seen
    unsubscribe()


# --- all or nothing ---------------------------------------------------------------------------------------


def test_a_transaction_writes_every_item_and_publishes_one_commit(
    dynamodb: Any, table: str, prefix: str, commits: list[moto_patches.Commit]
) -> None:
    dynamodb.transact_write_items(TransactItems=[put(table, prefix, f"item-{n}") for n in range(19)])

    assert all(get(dynamodb, table, prefix, f"item-{n}") for n in range(19))
    [commit] = [c for c in commits if c.items and c.items[0].key["pk"] == {"S": prefix}]
    assert len(commit.items) == 19 and len(commit.stream) == 19
    assert {c.item["sk"]["S"] for c in commit.items if c.item} == {f"item-{n}" for n in range(19)}


def test_a_failed_condition_writes_nothing_and_gives_a_reason_for_each_item(
    dynamodb: Any, table: str, prefix: str, commits: list[moto_patches.Commit]
) -> None:
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": prefix}, "sk": {"S": "taken"}, "who": {"S": "first"}}
    )
    taken = put(table, prefix, "taken", who="second")
    taken["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    before = len(commits)

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[put(table, prefix, "a"), taken, put(table, prefix, "b")])

    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons: Any = refused.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"]["who"] == {"S": "first"}
    assert get(dynamodb, table, prefix, "a") is None and get(dynamodb, table, prefix, "b") is None
    assert get(dynamodb, table, prefix, "taken")["who"] == {"S": "first"}  # type: ignore[index]
    assert len(commits) == before  # nothing to journal


def test_a_write_that_fails_midway_is_undone_item_by_item_and_leaves_no_stream_record(
    embedded_aws: Aws, dynamodb: Any, table: str, prefix: str
) -> None:
    dynamodb.put_item(TableName=table, Item={"pk": {"S": prefix}, "sk": {"S": "counter"}, "n": {"S": "text"}})
    stream = StreamReader(embedded_aws[0], table)
    # the checks pass (no conditions); adding a number to a string fails only when the update is applied
    bad_update = {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": prefix}, "sk": {"S": "counter"}},
            "UpdateExpression": "SET n = n + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[put(table, prefix, "written-first"), bad_update])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert get(dynamodb, table, prefix, "written-first") is None
    assert get(dynamodb, table, prefix, "counter")["n"] == {"S": "text"}  # type: ignore[index]
    assert stream.keys(prefix) == []


def test_two_operations_on_one_item_are_refused(dynamodb: Any, table: str, prefix: str) -> None:
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[put(table, prefix, "same"), put(table, prefix, "same")])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert get(dynamodb, table, prefix, "same") is None


def test_the_stream_keeps_flowing_after_a_failed_transaction(
    embedded_aws: Aws, dynamodb: Any, table: str, prefix: str
) -> None:
    stream = StreamReader(embedded_aws[0], table)
    dynamodb.transact_write_items(TransactItems=[put(table, prefix, "one")])
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put(table, prefix, "two"), put(table, prefix, "one")])
    dynamodb.transact_write_items(TransactItems=[put(table, prefix, "three")])

    # moto's rollback swapped in a copy of the table with its own stream: "three" was never seen
    assert stream.keys(prefix) == [("INSERT", prefix, "one"), ("INSERT", prefix, "three")]


def test_a_failed_transaction_leaves_other_writers_alone(dynamodb: Any, table: str, prefix: str) -> None:
    dynamodb.put_item(TableName=table, Item={"pk": {"S": prefix}, "sk": {"S": "other"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put(table, prefix, "x"), put(table, prefix, "other")])
    assert get(dynamodb, table, prefix, "other") is not None


# --- memory ----------------------------------------------------------------------------------------------


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


def test_two_hundred_booking_sized_transactions_keep_memory_bounded(
    dynamodb: Any, table: str, prefix: str
) -> None:
    """Each transaction is 19 items, as a booking is. moto deep-copied the whole table for every item and
    kept every copy (tracked instances): with a few thousand items in the table this grew by gigabytes."""
    for n in range(20):  # a table that is not empty, and a warm server
        dynamodb.transact_write_items(
            TransactItems=[put(table, f"{prefix}-warm-{n}", f"i-{i}") for i in range(19)]
        )
    before = resident_bytes()

    for n in range(200):
        dynamodb.transact_write_items(
            TransactItems=[put(table, f"{prefix}-{n}", f"i-{i}", blob="x" * 200) for i in range(19)]
        )

    grown = resident_bytes() - before
    # 3,800 new items and their stream records are a few MB of Python objects
    assert grown < 60 * 1024 * 1024, f"resident memory grew by {grown / 2**20:.0f} MiB"
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord

    assert Item.instances_tracked == [] and StreamRecord.instances_tracked == []  # type: ignore[attr-defined]


# --- stream retention and iterators ----------------------------------------------------------------------


def test_trimming_keeps_sequence_numbers_and_later_records(
    embedded_aws: Aws, dynamodb: Any, table: str, prefix: str
) -> None:
    first_end = moto_patches.stream_end(table)
    dynamodb.transact_write_items(TransactItems=[put(table, prefix, "a"), put(table, prefix, "b")])
    end = moto_patches.stream_end(table)
    assert end == first_end + 2

    moto_patches.trim_stream(table, end - 1)  # "a" was delivered

    streams = embedded_aws[0].client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    assert int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) == end
    iterator = streams.get_shard_iterator(
        StreamArn=arn,
        ShardId=shard["ShardId"],
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=str(end - 1),
    )["ShardIterator"]
    [record] = streams.get_records(ShardIterator=iterator)["Records"]
    assert record["dynamodb"]["SequenceNumber"] == str(end)
    assert record["dynamodb"]["Keys"]["sk"] == {"S": "b"}


def test_shard_iterators_expire_instead_of_piling_up(
    embedded_aws: Aws, dynamodb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = embedded_aws[0].client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    old = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    monkeypatch.setattr(moto_streams, "ITERATOR_LIFETIME_SECONDS", 0)
    streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")

    with pytest.raises(ClientError) as refused:
        streams.get_records(ShardIterator=old)
    assert refused.value.response["Error"]["Code"] == "ExpiredIteratorException"


# --- the upgrade alarm -----------------------------------------------------------------------------------


def test_moto_is_the_version_the_patches_were_written_for() -> None:
    assert moto.__version__ == moto_patches.MOTO_VERSION, (
        f"moto {moto.__version__} is installed; local/moto/ was written for "
        f"{moto_patches.MOTO_VERSION}. Re-read the functions it patches, then update MOTO_VERSION."
    )


@pytest.mark.usefixtures("embedded_aws")
@pytest.mark.parametrize("name", sorted(moto_patches.PATCHED))
def test_no_patched_moto_function_changed(name: str) -> None:
    changed = moto_patches.source_hash(moto_patches.original(name))
    assert changed == moto_patches.PATCHED[name], (
        f"moto's {name} is not the one local/moto/ replaces or wraps: read the new one, check "
        "the patch still holds, then record the new hash in PATCHED"
    )


@pytest.mark.parametrize("name", sorted(moto_patches.RELIED_ON))
def test_no_moto_function_the_patches_rely_on_changed(name: str) -> None:
    changed = moto_patches.source_hash(moto_patches.relied_on(name))
    assert changed == moto_patches.RELIED_ON[name], (
        f"moto's {name} changed, and local/moto/ relies on how it works: read it, check the "
        "patch still holds, then record the new hash in RELIED_ON"
    )


# --- queries read their partition ------------------------------------------------------------------------


def test_a_query_answers_from_its_partition_in_order_with_pages_and_an_index_still_sees_every_partition(
    dynamodb: Any, table: str, prefix: str
) -> None:
    for n in range(30):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": prefix},
                "sk": {"S": f"E#{n:03d}"},
                "gsi1pk": {"S": f"{prefix}-index"},
                "gsi1sk": {"S": f"{n:03d}"},
            },
        )
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"{prefix}-other"}, "sk": {"S": f"E#{n:03d}"}})
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"{prefix}-elsewhere-{n}"},
                "sk": {"S": "X"},
                "gsi1pk": {"S": f"{prefix}-index"},
                "gsi1sk": {"S": f"{n:03d}x"},
            },
        )

    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
        ExpressionAttributeValues={":pk": {"S": prefix}, ":low": {"S": "E#005"}, ":high": {"S": "E#024"}},
        ScanIndexForward=False,
        PaginationConfig={"PageSize": 7},
        ConsistentRead=True,
    )
    found = [item["sk"]["S"] for page in pages for item in page["Items"]]
    assert found == [f"E#{n:03d}" for n in range(24, 4, -1)]

    indexed = dynamodb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{prefix}-index"}},
    )["Items"]
    assert len(indexed) == 60  # from the one partition and from thirty others


# --- secrets are captured ------------------------------------------------------------------------------


def test_each_secret_change_is_published_with_its_state_and_never_shows_the_value_in_a_repr(
    embedded_aws: Aws, prefix: str
) -> None:
    secretsmanager = embedded_aws[0].client("secretsmanager")
    seen: list[moto_patches.SecretChange] = []
    unsubscribe = moto_patches.subscribe(moto_patches.SecretChange, seen.append)
    try:
        created = secretsmanager.create_secret(Name=f"{prefix}/zoom", SecretString="first-s3cr3t")
        secretsmanager.put_secret_value(SecretId=created["ARN"], SecretString="second-s3cr3t")
        secretsmanager.delete_secret(SecretId=created["ARN"], ForceDeleteWithoutRecovery=True)
    finally:
        unsubscribe()

    mine = [change for change in seen if change.name == f"{prefix}/zoom"]
    assert [change.secret is None for change in mine] == [False, False, True]
    created_state, put_state = mine[0].secret, mine[1].secret
    assert created_state is not None and put_state is not None
    assert put_state["arn"] == created["ARN"]
    current = put_state["versions"][put_state["default_version_id"]]
    assert current["secret_string"] == "second-s3cr3t" and current["version_stages"] == ["AWSCURRENT"]
    assert all("s3cr3t" not in repr(change) for change in mine)


# --- presigned POST policies -----------------------------------------------------------------------------


def policy_of(*conditions: Any, expiration: str = "2099-01-01T00:00:00Z") -> str:
    return base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()


FORM = {"key": "uploads/a.jpg", "Content-Type": "image/jpeg", "x-amz-date": "20260101T000000Z"}


@pytest.mark.parametrize(
    "condition",
    [
        {"key": "uploads/a.jpg"},
        ["eq", "$key", "uploads/a.jpg"],
        ["starts-with", "$key", "uploads/"],
        ["starts-with", "$key", ""],
        {"content-type": "image/jpeg"},  # field names in any case
        ["eq", "$Content-Type", "image/jpeg"],
        ["starts-with", "$Content-Type", "image/"],
        {"bucket": "photos"},
        ["content-length-range", 1, 10],
    ],
)
def test_a_post_form_meeting_its_policy_passes(condition: Any) -> None:
    moto_patches.check_post_policy(policy_of(condition), FORM, "photos", 10)


@pytest.mark.parametrize(
    ("condition", "failed"),
    [
        ({"key": "uploads/b.jpg"}, '["eq", "$key", "uploads/b.jpg"]'),
        (["starts-with", "$key", "other/"], '["starts-with", "$key", "other/"]'),
        ({"Content-Type": "image/png"}, '["eq", "$Content-Type", "image/png"]'),
        (["eq", "$Content-Type", "image/JPEG"], '["eq", "$Content-Type", "image/JPEG"]'),  # values are exact
        ({"bucket": "other"}, '["eq", "$bucket", "other"]'),
        ({"x-amz-meta-tag": "x"}, '["eq", "$x-amz-meta-tag", "x"]'),  # a field the form lacks
    ],
)
def test_a_post_form_breaking_a_condition_is_access_denied(condition: Any, failed: str) -> None:
    with pytest.raises(S3ClientError) as refused:
        moto_patches.check_post_policy(policy_of({"bucket": "photos"}, condition), FORM, "photos", 10)
    assert refused.value.code == "AccessDenied"
    assert refused.value.message == f"Invalid according to Policy: Policy Condition failed: {failed}"


@pytest.mark.parametrize(("size", "code"), [(11, "EntityTooLarge"), (4, "EntityTooSmall")])
def test_a_file_outside_the_content_length_range_is_refused(size: int, code: str) -> None:
    with pytest.raises(S3ClientError) as refused:
        moto_patches.check_post_policy(policy_of(["content-length-range", 5, 10]), FORM, "photos", size)
    assert refused.value.code == code


def test_an_expired_or_malformed_policy_is_refused() -> None:
    with pytest.raises(S3ClientError) as expired:
        moto_patches.check_post_policy(policy_of(expiration="2020-01-01T00:00:00Z"), FORM, "photos", 1)
    assert (expired.value.code, expired.value.message) == (
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    for policy in ("not base64 json", policy_of(["between", "$key", 1, 2]), base64.b64encode(b"{}").decode()):
        with pytest.raises(S3ClientError) as malformed:
            moto_patches.check_post_policy(policy, FORM, "photos", 1)
        assert malformed.value.code == "InvalidPolicyDocument"


def test_other_posts_to_a_bucket_still_work(
    embedded_aws: Aws, resources: LocalResources, prefix: str
) -> None:
    s3 = embedded_aws[0].client("s3")
    s3.put_object(Bucket=resources.photos_bucket, Key=f"{prefix}/x", Body=b"x")
    deleted = s3.delete_objects(Bucket=resources.photos_bucket, Delete={"Objects": [{"Key": f"{prefix}/x"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == [f"{prefix}/x"]
