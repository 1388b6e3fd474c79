"""Per-business provider credentials in AWS Secrets Manager (locally: the embedded AWS).

One secret per business and provider, named `<prefix><tenant id>/<area>/<provider>` (area `meetings` for
meeting providers, `payments` for Stripe); each function's
IAM policy is scoped to the prefix. Values are read back only by the back end, cached briefly per
container (CACHE_SECONDS), and never logged. A caller that finds the cached value wrong (a signature that
does not verify with it: the secret was rotated; none stored: the account was just connected) asks for a
fresh read, which is made at most once every REFRESH_SECONDS per secret, so forged requests cannot turn
into a read of Secrets Manager each.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

CACHE_SECONDS = 300.0
REFRESH_SECONDS = 1.0


class SecretsManagerCredentials:
    def __init__(self, client: Any, prefix: str, area: str = "meetings") -> None:
        self._client = client
        self._prefix = prefix
        self._area = area
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def name(self, tenant_id: str, provider: str) -> str:
        return f"{self._prefix}{tenant_id}/{self._area}/{provider}"

    def put(self, tenant_id: str, provider: str, credentials: dict[str, Any]) -> None:
        name = self.name(tenant_id, provider)
        value = json.dumps(credentials)
        try:
            self._client.put_secret_value(SecretId=name, SecretString=value)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._client.create_secret(
                Name=name,
                SecretString=value,
                Description="meeting-provider credentials of one business (write-only in the API)",
            )
        self._remember(name, credentials)

    def get(self, tenant_id: str, provider: str, fresh: bool = False) -> dict[str, Any] | None:
        """The stored credentials; `fresh`: read afresh unless read in the last REFRESH_SECONDS."""
        name = self.name(tenant_id, provider)
        with self._lock:
            cached = self._cache.get(name)
        limit = REFRESH_SECONDS if fresh else CACHE_SECONDS
        if cached is not None and time.monotonic() - cached[0] < limit:
            return cached[1]
        try:
            answer = self._client.get_secret_value(SecretId=name)
            value: dict[str, Any] | None = json.loads(answer["SecretString"])
        except ClientError as error:
            if error.response["Error"]["Code"] not in (
                "ResourceNotFoundException",
                "InvalidRequestException",
            ):
                raise
            value = None  # never stored, or deleted (a deleted secret answers InvalidRequestException)
        self._remember(name, value)
        return value

    def delete(self, tenant_id: str, provider: str) -> None:
        name = self.name(tenant_id, provider)
        try:
            self._client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        self._remember(name, None)

    def _remember(self, name: str, value: dict[str, Any] | None) -> None:
        with self._lock:
            self._cache[name] = (time.monotonic(), value)
