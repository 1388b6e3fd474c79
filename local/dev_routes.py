"""Routes that exist only on the local stack (never in the Lambda app): demo businesses and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from local.persistence import LOCAL_PASSWORD
from local.seed import DemoBusiness

router = APIGatewayRouter()


@dataclass
class DevState:
    base_url: str
    cognito: Any
    user_pool_id: str
    client_id: str
    demo: list[DemoBusiness]


_state: DevState | None = None


def install(state: DevState) -> None:
    global _state  # noqa: PLW0603 - one dev server per process
    _state = state


def _token(state: DevState, email: str) -> str:
    result = state.cognito.admin_initiate_auth(
        UserPoolId=state.user_pool_id,
        ClientId=state.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": LOCAL_PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


@router.get("/dev/demo", include_in_schema=False)
def demo() -> dict[str, Any]:
    """The demo businesses with fresh ID tokens (valid one hour) for each role."""
    if _state is None:
        raise RuntimeError("dev routes not installed")
    state = _state
    return {
        "note": "Local stack only. Send a token as 'Authorization: Bearer <token>' to /v1/admin/*.",
        "password": LOCAL_PASSWORD,
        "businesses": [
            {
                "id": business.id,
                "slug": business.slug,
                "name": business.name,
                "public_services_url": f"{state.base_url}/v1/public/businesses/{business.slug}/services",
                "users": {
                    role: {"email": email, "token": _token(state, email)}
                    for role, email in business.users.items()
                },
            }
            for business in state.demo
        ],
    }
