"""boto3 clients for the providers we send through: standard retry mode (exponential backoff with jitter)
so throttling and transient errors are retried before an attempt counts as failed, and timeouts short
enough that one send (three tries of at most 2 + 5 s, plus at most 3 s of backoff) stays within
`services.delivery.SEND_BUDGET_SECONDS`, well inside the function's timeout."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

SENDING_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def client(service: str) -> Any:
    return boto3.client(service, config=SENDING_RETRIES)  # type: ignore[call-overload]
