"""Builds the adapters and use cases once per process (Lambda container or local server)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.system import SystemClock, UlidGenerator
from booking.ports import Clock, IdGenerator
from booking.services.catalogue import CatalogueService

# Returns the verified claims of the caller, or None when the request carries no valid token.
ClaimsSource = Callable[[BaseProxyEvent], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Container:
    catalogue: CatalogueService
    claims: ClaimsSource
    clock: Clock


def api_gateway_claims(event: BaseProxyEvent) -> Mapping[str, Any] | None:
    """On AWS the Cognito authorizer has already verified the token; its claims ride on the request context."""
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims")
    return claims if isinstance(claims, Mapping) and claims else None


def build_container(
    claims: ClaimsSource = api_gateway_claims,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Container:
    """Reads configuration from the environment: TABLE_NAME, and AWS_ENDPOINT_URL when not on AWS."""
    dynamodb = boto3.client("dynamodb")
    clock = clock or SystemClock()
    repository = DynamoCatalogueRepository(dynamodb, os.environ["TABLE_NAME"])
    return Container(
        catalogue=CatalogueService(repository, clock, ids or UlidGenerator()),
        claims=claims,
        clock=clock,
    )
