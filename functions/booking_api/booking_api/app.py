"""Assembles the API from its routers. The same routers serve Lambda (APIGatewayRestResolver) and the
local server (Powertools' ASGI HttpResolver)."""

from __future__ import annotations

from typing import TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from booking_api import cors, deps, openapi
from booking_api.problems import register_problem_handlers
from booking_api.routers import (
    admin_bookings,
    admin_catalogue,
    admin_meeting_providers,
    admin_payments,
    admin_series,
    booking_requests,
    bookkeeping,
    meta,
    public,
    public_bookings,
    public_customers,
)

ResolverT = TypeVar("ResolverT", bound=ApiGatewayResolver)

# Modules that routes import on first use, so that a cold start without SnapStart answers availability
# without them: icalendar (the invite download), PyJWT (the customer routes). A snapshot holds them anyway.
LOADED_ON_DEMAND = ("booking.domain.invite", "jwt")


def mount(app: ResolverT) -> ResolverT:
    """Includes every router, the public routes' CORS preflight, the problem+json handlers and the Swagger
    UI at /v1/docs."""
    for module in (
        meta,
        public,
        public_bookings,
        public_customers,
        admin_catalogue,
        admin_meeting_providers,
        admin_payments,
        admin_bookings,
        admin_series,
        bookkeeping,
        booking_requests,
    ):
        app.include_router(module.router)
    cors.install(app)
    register_problem_handlers(app)
    openapi.install(app)
    app.enable_swagger(
        path="/v1/docs",
        title=openapi.TITLE,
        version=openapi.VERSION,
        description=openapi.DESCRIPTION,
        security_schemes=openapi.SECURITY_SCHEMES,
    )
    return app


def lambda_api() -> APIGatewayRestResolver:
    """The API as Lambda serves it: the container built from the environment, every route mounted."""
    deps.container()
    return mount(APIGatewayRestResolver(enable_validation=True))
