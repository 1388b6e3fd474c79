"""Shared fixtures: one embedded AWS per test process, the real Lambda handler, and fresh tenants.

Every test that touches storage gets its own tenant (business), so tests share the embedded AWS the way
tenants share a deployment, and isolation between them is itself exercised.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.auth import CognitoIdTokenVerifier
from local.aws import EmbeddedAws, LocalResources
from local.fakes.providers import MeetingFakes, start_fakes
from local.persistence import LOCAL_PASSWORD
from local.stripe_server import StripeServer, start_stripe
from tests.support.lambda_api import LambdaApi


@pytest.fixture(scope="session")
def embedded_aws(
    meeting_fakes: MeetingFakes, stripe_server: StripeServer
) -> Iterator[tuple[EmbeddedAws, LocalResources]]:
    aws = EmbeddedAws()
    aws.start()
    resources = aws.provision()
    os.environ.update(resources.environment())
    os.environ["APP_SECRET"] = secrets.token_urlsafe(48)
    yield aws, resources
    aws.stop()


@pytest.fixture(scope="session")
def meeting_fakes() -> Iterator[MeetingFakes]:
    """Every meeting provider's fake, where the adapters of this process call (as in the local stack)."""
    fakes = start_fakes()
    os.environ.update(fakes.environment())
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[StripeServer]:
    """localstripe, empty and in memory, where the Stripe SDK of this process calls (STRIPE_API_BASE), as
    in the local stack; set before the `api` fixture builds the container, which reads it."""
    server = start_stripe()
    os.environ.update(server.environment())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def retry_pauses() -> Iterator[list[float]]:
    """State machines' Retry pauses, recorded rather than waited for (the executions run at once)."""
    from local.moto import set_retry_pause

    pauses: list[float] = []
    previous = set_retry_pause(pauses.append)
    yield pauses
    set_retry_pause(previous)


@pytest.fixture(scope="session")
def resources(embedded_aws: tuple[EmbeddedAws, LocalResources]) -> LocalResources:
    return embedded_aws[1]


@pytest.fixture(scope="session")
def verifier(resources: LocalResources) -> CognitoIdTokenVerifier:
    return CognitoIdTokenVerifier(resources.jwks_url, resources.issuer, resources.user_pool_client_id)


@pytest.fixture(scope="session")
def api(resources: LocalResources, verifier: CognitoIdTokenVerifier) -> LambdaApi:
    # Built once the environment points at the embedded AWS, as the first invocation on Lambda builds it.
    from booking_api import handler

    handler.api()
    return LambdaApi(handler.lambda_handler, verifier)


@pytest.fixture(scope="session")
def container(api: LambdaApi) -> Any:
    from booking_api.deps import container as installed_container

    return installed_container()


@dataclass
class Tenant:
    id: str
    slug: str
    tokens: dict[str, str]  # role -> ID token
    emails: dict[str, str]

    def token(self, role: str = "owner") -> str:
        return self.tokens[role]


@pytest.fixture(scope="session")
def make_tenant(embedded_aws: tuple[EmbeddedAws, LocalResources], container: Any) -> Callable[..., Tenant]:
    """Creates a business with one Cognito user per role and returns their real ID tokens."""
    aws, resources = embedded_aws
    cognito = aws.client("cognito-idp")

    def create(**settings: Any) -> Tenant:
        from booking.domain.catalogue import BusinessSettings

        suffix = secrets.token_hex(4)
        fields = {
            "name": f"Test business {suffix}",
            "slug": f"test-{suffix}",
            "time_zone": "Europe/London",
            "currency": "GBP",
            **settings,
        }
        business = container.catalogue.create_business(BusinessSettings(**fields))
        tokens, emails = {}, {}
        for role in ("owner", "admin", "staff", "dispatcher"):
            email = f"{role}-{suffix}@tests.example"
            cognito.admin_create_user(
                UserPoolId=resources.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "custom:tenant_id", "Value": business.id},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=resources.user_pool_id, Username=email, Password=LOCAL_PASSWORD, Permanent=True
            )
            cognito.admin_add_user_to_group(UserPoolId=resources.user_pool_id, Username=email, GroupName=role)
            auth = cognito.admin_initiate_auth(
                UserPoolId=resources.user_pool_id,
                ClientId=resources.user_pool_client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": LOCAL_PASSWORD},
            )
            tokens[role] = auth["AuthenticationResult"]["IdToken"]
            emails[role] = email
        return Tenant(id=business.id, slug=business.slug, tokens=tokens, emails=emails)

    return create


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture(scope="session")
def mailed_codes(embedded_aws: tuple[EmbeddedAws, LocalResources], api: LambdaApi) -> Iterator[None]:
    """Sign-in codes reach the embedded SES as on AWS: the reminders function issues them from the table's
    stream, delivered here (only those records) whenever a test reads the mail."""
    from local.clock import DevClock
    from local.dispatcher import Dispatcher
    from reminders import handler
    from tests.support import booking_fixtures

    aws, resources = embedded_aws
    pump = Dispatcher(
        aws,
        resources.table_name,
        resources.schedule_group,
        DevClock(Path(tempfile.mkdtemp(prefix="codes-"))),
        handler.lambda_handler,
        kinds=frozenset({"login_code_request"}),
    )
    pump.skip_to_latest()
    booking_fixtures.DELIVER_CODE_REQUESTS.append(pump.run_once)
    yield
    booking_fixtures.DELIVER_CODE_REQUESTS.remove(pump.run_once)
    pump.close()
