"""OpenAPI document settings shared by the Lambda and local apps."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme

TITLE = "Booking API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Appointment booking: a public API for booking widgets and customers, and an admin API "
    "(Cognito bearer token; tenant and role come from the token) for owners, admins, staff and dispatchers. "
    "Errors are RFC 9457 problem+json."
)
SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearerAuth": HTTPBearer(bearerFormat="JWT", description="Cognito ID token")
}
ADMIN_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
