"""Public API used by booking widgets and customers: no authentication, CORS per business."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.menu import public_menu
from booking.services.catalogue import CatalogueService
from booking_api.cors import cors_headers, request_origin
from booking_api.deps import catalogue_service
from booking_api.schemas.catalogue import Menu

router = APIGatewayRouter()

Catalogue = Annotated[CatalogueService, Depends(catalogue_service)]
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]

SERVICES = "/v1/public/businesses/<slug>/services"


@router.get(SERVICES, tags=["public"], responses={200: {"description": "The published services"}})
def list_services(slug: SlugParam, catalogue: Catalogue, request: Request) -> Response[Menu]:
    """Active services grouped by category, each with duration, price, delivery mode and bookable staff."""
    found = catalogue.public_catalogue(slug)
    menu = Menu.of(public_menu(found))
    return Response(
        status_code=200,
        content_type="application/json",
        body=menu,
        headers=cors_headers(found.business, request_origin(request)),
    )
