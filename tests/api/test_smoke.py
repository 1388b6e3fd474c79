from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Tenant
from tests.support.lambda_api import LambdaApi


def test_health(api: LambdaApi) -> None:
    response = api.get("/v1/health")
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_owner_creates_a_category_and_another_tenant_cannot_see_it(
    api: LambdaApi, tenant: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    created = api.post("/v1/admin/categories", token=tenant.token(), json_body={"name": "Massage"})
    assert created.status == 201
    category_id = created.json()["id"]
    assert api.get(f"/v1/admin/categories/{category_id}", token=tenant.token()).json()["name"] == "Massage"

    other = make_tenant()
    response = api.get(f"/v1/admin/categories/{category_id}", token=other.token())
    assert response.status == 404
    assert "Massage" not in response.text
