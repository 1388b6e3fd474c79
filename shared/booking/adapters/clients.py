"""boto3 clients for the providers we send through: standard retry mode (exponential backoff with jitter)
so throttling and transient errors are retried before a message is recorded as failed."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

SENDING_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


def client(service: str) -> Any:
    return boto3.client(service, config=SENDING_RETRIES)  # type: ignore[call-overload]
