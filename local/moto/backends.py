"""Where the embedded AWS keeps its state: the one account and region the local stack uses, and moto's
backend for a service there.

`local/aws.py` provisions in this region and the patches look their backends up in it; neither imports the
other for it (this module imports nothing of the local stack)."""

from __future__ import annotations

from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def backend(service: str) -> Any:
    """moto's backend of `service` (its package name: "dynamodb", "sqs", ...) in the local stack's region."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    module = __import__(f"moto.{service}.models", fromlist=["x"])
    return getattr(module, f"{service}_backends")[DEFAULT_ACCOUNT_ID][REGION]
