"""SQS: patch 5 for the dead-letter queues (each message sent or deleted published as a `QueueChange`),
and restoring saved messages (`load_queue_messages`)."""

from __future__ import annotations

from typing import Any

from local.moto._support import WRITE_LOCK, bound
from local.moto.backends import backend
from local.moto.events import QueueChange, publish
from local.moto.installing import ORIGINALS


def _sqs_send(self: Any, *args: Any, **kwargs: Any) -> Any:
    with WRITE_LOCK:
        message = ORIGINALS["sqs.send_message"](self, *args, **kwargs)
        queue = bound(ORIGINALS["sqs.send_message"], self, args, kwargs)["queue_name"]
        publish(QueueChange(queue, message.id, message.body))
        return message


def _sqs_delete(self: Any, queue_name: str, receipt_handle: str) -> None:
    with WRITE_LOCK:
        queue = self.get_queue(queue_name)
        ids = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
        ORIGINALS["sqs.delete_message"](self, queue_name, receipt_handle)
        for message_id in ids:
            publish(QueueChange(queue_name, message_id, None))


def load_queue_messages(queue_name: str, messages: dict[str, str]) -> None:
    """Puts saved messages back into a queue with their ids, as if never received."""
    from moto.sqs.models import Message

    queue = backend("sqs").get_queue(queue_name)
    for message_id, body in messages.items():
        message = Message(message_id, body)
        message.mark_sent()
        queue.add_message(message)


def apply() -> None:
    from moto.sqs.models import SQSBackend

    ORIGINALS["sqs.send_message"] = SQSBackend.send_message
    ORIGINALS["sqs.delete_message"] = SQSBackend.delete_message
    SQSBackend.send_message = _sqs_send  # type: ignore[method-assign]
    SQSBackend.delete_message = _sqs_delete  # type: ignore[method-assign]
