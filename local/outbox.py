"""The local outbox: every email (with its attachments) and SMS the system handed to the embedded SES and
SNS, captured from them after each dispatch and kept in the data directory, newest first."""

from __future__ import annotations

import json
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from local.clock import DevClock


def _email_entry(message: Any) -> dict[str, Any]:
    raw = getattr(message, "raw_data", None)
    if raw is None:  # a simple (non-raw) message
        return {
            "channel": "email",
            "to": list(getattr(message, "destinations", {}).get("ToAddresses", [])),
            "from": message.source,
            "subject": message.subject,
            "text": message.body,
            "html": None,
            "attachments": [],
        }
    parsed = BytesParser(policy=policy.default).parsebytes(raw.encode() if isinstance(raw, str) else raw)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    attachments = [
        {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "method": part.get_param("method"),
            "content": part.get_content() if part.get_content_maintype() == "text" else None,
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
    def __init__(self, data_dir: Path, region: str, clock: DevClock) -> None:
        self._file = data_dir / "outbox.jsonl"
        self._region = region
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        if self._file.exists():
            self._seen = {json.loads(line)["id"] for line in self._file.read_text().splitlines() if line}

    def collect(self) -> int:
        """Moves newly sent messages from the embedded SES and SNS into the outbox; returns how many."""
        ses = ses_backends[DEFAULT_ACCOUNT_ID][self._region]
        sns = sns_backends[DEFAULT_ACCOUNT_ID][self._region]
        new: list[dict[str, Any]] = []
        with self._lock:
            for message in ses.sent_messages:
                if message.id not in self._seen:
                    new.append({"id": message.id, **_email_entry(message)})
            for message_id, (phone, text) in list(sns.sms_messages.items()):
                if message_id not in self._seen:
                    new.append({"id": message_id, "channel": "sms", "to": [phone], "text": text})
            if not new:
                return 0
            at = self._clock.now().isoformat()
            with self._file.open("a", encoding="utf-8") as handle:
                for entry in new:
                    entry["at"] = at
                    handle.write(json.dumps(entry) + "\n")
                    self._seen.add(entry["id"])
        return len(new)

    def entries(self) -> list[dict[str, Any]]:
        if not self._file.exists():
            return []
        lines = self._file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in reversed(lines) if line]
