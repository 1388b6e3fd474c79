"""Every change the local stack makes to moto (its embedded AWS), in one package: a module for each
service patched, named at the head of each numbered item below.

Written against moto 5.2.5 (pinned in pyproject.toml). `PATCHED` and `RELIED_ON` name each moto function
this package replaces, wraps or leans on, with a hash of its source; tests/local/test_moto_patches.py fails
when an upgrade changes any of them, so whoever upgrades re-reads those functions before trusting this.

1. `dynamodb.py`: TransactWriteItems without table copies. moto's version
   (`DynamoDBBackend.transact_write_items`) deep-copies the whole table once per item of the transaction so
   it can roll back by swapping the copy in. Each booking copied the table about 19 times; latency and
   memory grew with every booking, and the swapped-in copy brought its own stream shard, so the
   dispatcher's iterator read a dead stream after any failed transaction. Ours checks every item first
   (unicity, conditions) and writes only when all pass; a write that still fails (a validation error)
   undoes exactly the items it touched.
2. `instances.py`: No tracked instances. moto's `BaseModel.__new__` keeps every model object it ever made
   (every item version, stream record and shard iterator) in a class-level list for its dashboard, so
   nothing is ever freed. The embedded AWS has no dashboard: instances are no longer tracked.
3. `dynamodb.py`, `streams.py` (the lock in `_support.py`): Writes one at a time. DynamoDB writes (and
   stream reads) run under one lock: stricter than DynamoDB, never weaker, and it gives every committed
   change one order, which the journal relies on.
4. `streams.py`: Stream retention and iterators. DynamoDB keeps stream records 24 hours and shard
   iterators 15 minutes; moto keeps both for ever. `trim_stream` drops records the (single, local)
   consumer has delivered, and iterators expire after 15 minutes.
5. `events.py` (what is published, `subscribe`), captured in `dynamodb.py`, `scheduler.py`, `cognito.py`,
   `sqs.py`, `secretsmanager.py` and `sends.py`: Change capture. Every committed DynamoDB write, stream
   record, schedule change, user change, queued or deleted dead letter, secret change and sent email or
   SMS is handed to subscribers (the local journal, the dispatcher, the outbox) before moto answers the
   request, so an acknowledged write can be made durable before it is acknowledged.
6. `sends.py`: Fault injection. The embedded SES/SNS can be told to refuse or to crash on the next sends
   (`faults`), so tests can prove that messages survive provider errors and a crash between claim and send.
7. `dynamodb.py`: Queries by partition. moto's Query sorts the whole table to find one partition's items,
   so every query cost more as the table filled; it is handed just the partition instead.
8. `stepfunctions.py`: Step Functions executions run, and their Lambda tasks run our handlers in process.
   moto only runs state machines when its `execute_state_machine` config is on (`install` turns it on),
   and it invokes a Lambda task (`arn:aws:states:::lambda:invoke` or a plain function ARN) through its own
   Lambda, which needs Docker. Both resource styles go through
   `lambda_eval_utils._invoke_lambda_function`, replaced here by a call to the handler registered with
   `register_function`, with AWS's semantics: the return value is the payload, an exception is
   FunctionError "Unhandled" with {"errorType": class name, ...} so Retry and Catch match on the class
   name, an unknown function is ResourceNotFoundException. Retry pauses go through `set_retry_pause`
   (tests record them instead of waiting). An execution started without a name gets a UUID, as on AWS
   (moto named every one "None", so the second one was refused).
9. `s3.py`: Presigned POST policies. moto stores whatever a browser-style POST form upload carries; S3
   refuses an upload whose form has a `policy` it breaks. Ours checks the policy before moto stores
   anything, as S3 does: an expired policy (against real time, not the dev clock) or a failed condition
   (exact match, `eq`, `starts-with`, on form fields, or the bucket) is 403 AccessDenied "Invalid according
   to Policy: ...", a file outside `content-length-range` is 400 EntityTooLarge / EntityTooSmall, and a
   policy that is not base64 JSON with an expiration and known conditions is 400 InvalidPolicyDocument.
   The signature is not verified (nor is a form field no condition names refused): a form signed with any
   key passes.

The local stack's persistence restores saved state through the service modules too (`load_items`,
`load_stream`, `load_schedules`, `load_queue_messages`, `load_secrets`): straight into moto's backends,
publishing nothing, since nothing is new.

Each service module's `apply` keeps the originals it replaces (`installing.py`: `ORIGINALS`, `original`,
and what the guard test reads) and makes its replacements; `install` (here) calls them once per process.
Three modules serve the others: `installing.py`; `_support.py` (the write lock, `AwsError`, a call's
arguments by name); `backends.py` (the local stack's account and region, and moto's backend of a service
there, which `local/aws.py` shares). The service modules import those and `events.py`, never this
`__init__`, which is what callers import. A module's own setting is set on that module:
`sends.retain_sent_messages`, `streams.ITERATOR_LIFETIME_SECONDS`.
"""

from __future__ import annotations

import logging

import moto

from local.moto import (
    cognito,
    dynamodb,
    instances,
    s3,
    scheduler,
    secretsmanager,
    sends,
    sqs,
    stepfunctions,
    streams,
)
from local.moto.dynamodb import load_items
from local.moto.events import (
    Commit,
    ItemChange,
    QueueChange,
    ScheduleChange,
    SecretChange,
    Sent,
    StreamAppend,
    UsersChange,
    subscribe,
)
from local.moto.installing import original, relied_on, source_hash
from local.moto.s3 import check_post_policy
from local.moto.scheduler import load_schedules
from local.moto.secretsmanager import load_secrets, secret_state
from local.moto.sends import SendFaults, faults
from local.moto.sqs import load_queue_messages
from local.moto.stepfunctions import (
    LambdaContext,
    LambdaHandler,
    RetryPause,
    function_name_of,
    register_function,
    set_retry_pause,
    unregister_function,
)
from local.moto.streams import load_stream, stream_end, trim_stream

__all__ = [
    "MOTO_VERSION",
    "PATCHED",
    "RELIED_ON",
    "Commit",
    "ItemChange",
    "LambdaContext",
    "LambdaHandler",
    "QueueChange",
    "RetryPause",
    "ScheduleChange",
    "SecretChange",
    "SendFaults",
    "Sent",
    "StreamAppend",
    "UsersChange",
    "check_post_policy",
    "faults",
    "function_name_of",
    "install",
    "load_items",
    "load_queue_messages",
    "load_schedules",
    "load_secrets",
    "load_stream",
    "original",
    "register_function",
    "relied_on",
    "secret_state",
    "set_retry_pause",
    "source_hash",
    "stream_end",
    "subscribe",
    "trim_stream",
    "unregister_function",
]

logger = logging.getLogger(__name__)

MOTO_VERSION = "5.2.5"

# The first 16 hex digits of the sha256 of each moto function's source in MOTO_VERSION: those this package
# replaces or wraps (by their name in `original`), and those whose internals it relies on.
PATCHED: dict[str, str] = {
    # 1, 3, 5 (dynamodb.py)
    "transact_write_items": "81db2cb7d94e39c9",  # replaced: check all, then write; no table copies
    "put_item": "f5d9a5042c77b89e",  # wrapped, with update_item and delete_item: lock, undo, capture
    "update_item": "218984588dd689a5",
    "delete_item": "083a4bb1af18f6fd",
    "shard_add": "357dc6da267e5dd7",  # wrapped: the stream records of a write, for undo and capture
    # 2 (instances.py)
    "base_model_new": "08cf0ef20e88029a",  # replaced: no tracking
    # 3, 4 (streams.py)
    "streams_init": "074dec7c828aa7e5",  # wrapped: expiring iterators
    "get_records": "db8c6cb04430c08f",  # wrapped: under the write lock; expired iterators refused
    # 5 (scheduler.py)
    "create_schedule": "513099380dbd4563",  # wrapped, with update and delete: capture
    "update_schedule": "15f9bd86f2396a39",
    "delete_schedule": "4569544648c9a8c4",
    # 5, 6 (sends.py)
    "ses.send_email": "62402224cef38244",  # wrapped, with send_raw_email and SNS publish: capture, faults
    "ses.send_raw_email": "b908bd50201b2d10",
    "sns.publish": "6356a2b5b79eb3de",
    # 5 (cognito.py)
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
    # 7 (dynamodb.py)
    "table_query": "002b4d00be6df07c",  # wrapped, with all_items: a query reads only its partition
    "all_items": "c80d2ee3c896acd0",
    # 5 (sqs.py)
    "sqs.send_message": "bf161af09a9e6b86",  # wrapped, with delete_message: capture
    "sqs.delete_message": "9eb658afdceb6bd9",
    # 5 (secretsmanager.py)
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
    # 8 (stepfunctions.py)
    "sfn.invoke_lambda_function": "0ebcddb746e422b0",  # replaced: the registered handler, in process
    "sfn.retrier_eval_body": "48463fff19cefa98",  # replaced: the pause through set_retry_pause
    "sfn.start_execution": "0f8d9dd57baf0c28",  # wrapped: an unnamed execution gets a UUID
    # 9 (s3.py)
    "s3.bucket_response_post": "5a5db8c38c8f1648",  # wrapped: a POST form's policy checked first
}
RELIED_ON: dict[str, str] = {
    # dynamodb.py, streams.py
    "moto.dynamodb.models.table:Table.put_item": "de23933013ef8426",  # items[hash][range] = Item
    "moto.dynamodb.models.table:Table.delete_item": "1594f7b07616c8cb",
    "moto.dynamodb.models.table:StreamShard.get": "fa7e9a0d7b438c2f",  # index = seq - starting number
    "moto.dynamodbstreams.models:ShardIterator.__init__": "5842e50a95242ef8",
    # scheduler.py
    "moto.scheduler.models:Schedule.to_dict": "293b6c07de343115",
    # sqs.py
    "moto.sqs.models:Queue.add_message": "f27c9231c1f20433",  # restoring saved messages
    "moto.sqs.models:Message.__init__": "4ab16d5eb16ec41c",
    # secretsmanager.py
    "moto.secretsmanager.models:FakeSecret.__init__": "eb6564ac1976646e",  # restoring saved secrets
    "moto.secretsmanager.models:SecretsStore.get": "62bdd2d662289238",  # by name or ARN
    # stepfunctions.py
    "moto.stepfunctions.responses:get_backend": "e736380f7d9c98a5",  # execute_state_machine, per request
    # Both Lambda task styles invoke through `_invoke_lambda_function`, and name the error its errorType.
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"
    ":execute_lambda_function_integration": "f8c714c35a2410c0",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda"
    ":StateTaskLambda._from_error": "1a3cdc6f4b303bfe",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda"
    ":StateTaskServiceLambda._from_error": "ba630b50b845a8d3",
    # s3.py: a POST form's fields are in `form_data` (and `querystring`), its file in `body`, and an
    # S3ClientError raised while handling it is answered as an S3 error (its code's status in S3's model:
    # 403 for AccessDenied, 400 for a code the model lacks).
    "moto.core.responses:BaseResponse.setup_class": "0045fc77574abb17",
    "moto.s3.responses:S3Response.bucket_response": "d560bab0e38e517b",
}

_installed = False


def install() -> None:
    """Applies every patch once per process (the embedded AWS calls it before starting moto)."""
    global _installed  # noqa: PLW0603 - once per process
    if _installed:
        return
    if moto.__version__ != MOTO_VERSION:
        logger.warning(
            "moto %s is not the version these patches were written for (%s)", moto.__version__, MOTO_VERSION
        )
    scheduler.apply()  # 5
    cognito.apply()  # 5
    sends.apply()  # 5, 6
    sqs.apply()  # 5
    secretsmanager.apply()  # 5
    stepfunctions.apply()  # 8
    s3.apply()  # 9
    instances.apply()  # 2
    dynamodb.apply()  # 1, 3, 5, 7
    streams.apply()  # 3, 4
    _installed = True
