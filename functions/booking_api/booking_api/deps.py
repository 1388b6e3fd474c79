"""Dependencies the routes declare with Depends(): the container's use cases and the calling principal."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Request
from booking.domain.access import Principal, principal_from_claims
from booking.domain.errors import Unauthorized
from booking.services.catalogue import CatalogueService

from booking_api.container import Container

_container: Container | None = None


def install(container: Container) -> None:
    """Called once by the composition root (Lambda handler or local server)."""
    global _container  # noqa: PLW0603 - one container per process, set at start-up
    _container = container


def container() -> Container:
    if _container is None:
        raise RuntimeError("booking_api.deps.install() was not called")
    return _container


def catalogue_service() -> CatalogueService:
    return container().catalogue


def principal(request: Request) -> Principal:
    claims = container().claims(request.resolved_event)
    if claims is None:
        raise Unauthorized("a valid bearer token is required")
    return principal_from_claims(claims)
