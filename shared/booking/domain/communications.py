"""The communications log: every message a booking caused, scheduled, sent, skipped (and why) or failed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

MessageChannel = Literal["email", "sms", "schedule"]
MessageStatus = Literal["scheduled", "unscheduled", "fired", "sending", "sent", "skipped", "failed"]


class MessageRecord(BaseModel):
    key: str  # what the message is about, e.g. "confirmation@v1" or "reminder-60m@<start>"
    kind: str  # confirmation, rescheduled, cancellation, reminder, staff_new, ...
    channel: MessageChannel
    audience: Literal["customer", "staff"] = "customer"
    recipient: str | None = None
    status: MessageStatus
    at: datetime
    send_at: datetime | None = None  # for a scheduled reminder: when it will go out
    provider_message_id: str | None = None
    detail: str | None = None  # why it was skipped or failed
