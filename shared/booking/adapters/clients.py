"""boto3 clients with explicit timeouts and standard retry mode (exponential backoff with jitter), sized to
fit inside the function that uses them (booking/deadline.py):

- SENDING_RETRIES, for the providers we send through and the background functions: three tries of at most
  2 + 5 s, plus at most 3 s of backoff, within `services.messaging.pipeline.SEND_BUDGET_SECONDS`;
- API_RETRIES, for the API and webhooks functions (10 s): three tries of at most 1 + 2 s each, so a request
  that DynamoDB keeps throttling still answers in time (a 503 to retry, never a killed function).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

SENDING_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
API_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1, read_timeout=2)


def client(service: str, config: Config = SENDING_RETRIES) -> Any:
    return boto3.client(service, config=config)  # type: ignore[call-overload]
