"""Stored booking requests moved in time, for the one test that needs a proposed time already expired
(the API rightly cannot do it): written with the real DynamoDB adapter, on the version read."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import boto3

from booking.adapters.dynamodb.booking_requests import DynamoRequestRepository
from booking.domain.booking import Actor
from booking.domain.booking_requests import RequestHistoryEntry


def expire_counter(tenant_id: str, request_id: str, ago: timedelta) -> None:
    """The request's open counter-proposal as if its hold had ended `ago`."""
    repository = DynamoRequestRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    found = repository.get(tenant_id, request_id)
    assert found is not None
    request = found[0]
    last = request.responses[-1]
    expired = last.model_copy(update={"hold_expires_at": datetime.now(UTC) - ago})
    changed = request.model_copy(
        update={"responses": [*request.responses[:-1], expired], "version": request.version + 1}
    )
    entry = RequestHistoryEntry(
        at=datetime.now(UTC), actor=Actor(kind="system", id="tests"), action="hold_moved"
    )
    repository.save(changed, request, entry)
