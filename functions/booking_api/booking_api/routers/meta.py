"""Health and API documentation."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking_api import openapi

router = APIGatewayRouter()


@router.get("/v1/health", tags=["meta"])
def health() -> dict[str, str]:
    """Whether the API answers (no business's data is read)."""
    return {"status": "ok"}


@router.get("/v1/openapi.json", tags=["meta"], include_in_schema=False)
def openapi_document() -> Response[str]:
    schema = router.api_resolver.get_openapi_json_schema(  # type: ignore[union-attr]
        title=openapi.TITLE,
        version=openapi.VERSION,
        description=openapi.DESCRIPTION,
        security_schemes=openapi.SECURITY_SCHEMES,
    )
    return Response(status_code=200, content_type="application/json", body=schema)
