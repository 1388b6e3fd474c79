"""The local outbox: every email (with its attachments) and SMS the system handed to the embedded SES and
SNS, kept in the data directory."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from local.clock import DevClock
from local.moto import Sent, subscribe


def _email_entry(sent: Sent) -> dict[str, Any]:
    if sent.raw is None:  # a simple (non-raw) message
        return {
            "channel": "email",
            "to": list(sent.to),
            "from": sent.source,
            "subject": sent.subject,
            "text": sent.text,
            "html": None,
            "attachments": [],
        }
    parsed = BytesParser(policy=policy.default).parsebytes(sent.raw.encode("utf-8", "surrogateescape"))
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    attachments = [
        {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "method": part.get_param("method"),
            "content": part.get_content() if part.get_content_maintype() == "text" else None,
            # Anything else (an invoice's PDF) as sent, base64-encoded.
            "content_base64": None
            if part.get_content_maintype() == "text"
            else base64.b64encode(part.get_content()).decode("ascii"),
        }
        for part in parsed.iter_attachments()
    ]
    return {
        "channel": "email",
        "to": [str(a) for a in parsed.get_all("to", [])],
        "from": str(parsed["from"]),
        "subject": str(parsed["subject"]),
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "attachments": attachments,
    }


class Outbox:
    """Listens to the embedded SES and SNS: each message is written to `outbox.jsonl` before the provider
    answers the send, so what was sent is on disk even if the process is killed a moment later."""

    def __init__(self, data_dir: Path, clock: DevClock) -> None:
        self._file = data_dir / "outbox.jsonl"
        self._clock = clock
        self._lock = threading.Lock()
        self._detach: Callable[[], None] | None = None
        self._drop_torn_tail()

    def _drop_torn_tail(self) -> None:
        """A process killed mid-append leaves half a line; the next line would be glued to it."""
        if not self._file.exists():
            return
        data = self._file.read_bytes()
        if data and not data.endswith(b"\n"):
            with self._file.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def attach(self) -> None:
        self._detach = subscribe(Sent, self._record)

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None

    def _record(self, sent: Sent) -> None:
        if sent.channel == "sms":
            entry: dict[str, Any] = {"channel": "sms", "to": list(sent.to), "text": sent.text}
        else:
            entry = _email_entry(sent)
        line = json.dumps({"id": sent.message_id, **entry, "at": self._clock.now().isoformat()}) + "\n"
        with self._lock, self._file.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def entries(self) -> list[dict[str, Any]]:
        """Every message, newest first."""
        if not self._file.exists():
            return []
        entries = []
        for line in reversed(self._file.read_text(encoding="utf-8", errors="replace").splitlines()):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line torn by a kill (the file is repaired at the next start)
        return entries
