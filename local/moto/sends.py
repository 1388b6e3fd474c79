"""SES and SNS: patch 5 for sends (each email or SMS accepted published as `Sent`) and patch 6, fault
injection (`faults`: the embedded SES/SNS refuse, or crash the process on, sends to given recipients, so
tests can prove that messages survive provider errors and a crash between claim and send).

`retain_sent_messages` (set on this module) says whether moto also keeps what was sent in its own lists:
tests read them; the dev server sets it False and hands every message to its durable outbox instead, so
its memory does not grow with each email."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from local.moto._support import AwsError, bound
from local.moto.events import Sent, publish
from local.moto.installing import ORIGINALS

logger = logging.getLogger(__name__)


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
retain_sent_messages = True


def _ses_send(name: str) -> Callable[..., Any]:
    original = ORIGINALS[f"ses.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        destinations = bound(original, self, args, kwargs)["destinations"]
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
        publish(
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
    original = ORIGINALS["sns.publish"]
    arguments = bound(original, self, args, kwargs)
    phone = arguments.get("phone_number")
    if phone:
        faults.before_send("sms", [phone])
    message_id = original(self, *args, **kwargs)
    if phone:
        publish(Sent(channel="sms", message_id=message_id, to=(phone,), text=arguments["message"]))
        if not retain_sent_messages:
            self.sms_messages.pop(message_id, None)
            self.sms_message_objects.pop(message_id, None)
    return message_id


def apply() -> None:
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend

    for name in ("send_raw_email", "send_email"):
        ORIGINALS[f"ses.{name}"] = getattr(SESBackend, name)
        setattr(SESBackend, name, _ses_send(name))
    ORIGINALS["sns.publish"] = SNSBackend.publish
    SNSBackend.publish = _sns_publish  # type: ignore[method-assign]
