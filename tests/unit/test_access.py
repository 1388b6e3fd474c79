"""Who the caller is and what their role allows, from the claims API Gateway (or the dev server) hands us."""

from __future__ import annotations

from typing import Any

import pytest

from booking.domain.access import (
    ANY_ROLE,
    CATALOGUE_EDITORS,
    SETTINGS_EDITORS,
    Principal,
    Role,
    principal_from_claims,
)
from booking.domain.errors import Forbidden, Unauthorized


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "user-1",
        "email": "amelia@example.com",
        "custom:tenant_id": "tenant-1",
        "cognito:groups": ["admin"],
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def test_a_verified_token_becomes_a_principal() -> None:
    principal = principal_from_claims(claims(**{"custom:staff_id": "staff-9"}))
    assert principal == Principal(
        user_id="user-1",
        tenant_id="tenant-1",
        role=Role.ADMIN,
        email="amelia@example.com",
        staff_id="staff-9",
    )


def test_an_empty_staff_claim_means_no_staff_link() -> None:
    assert principal_from_claims(claims(**{"custom:staff_id": ""})).staff_id is None
    assert principal_from_claims(claims()).staff_id is None


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["owner"], Role.OWNER),
        (["staff"], Role.STAFF),
        (["dispatcher"], Role.DISPATCHER),
        # API Gateway REST authorizers flatten list claims into strings
        ("admin", Role.ADMIN),
        ("[owner admin]", Role.OWNER),
        ("[staff]", Role.STAFF),
        ("staff,dispatcher", Role.DISPATCHER),
        ("staff, admin", Role.ADMIN),
    ],
)
def test_groups_in_every_shape_api_gateway_sends(groups: Any, role: Role) -> None:
    assert principal_from_claims(claims(**{"cognito:groups": groups})).role is role


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["staff", "owner"], Role.OWNER),
        (["staff", "admin", "dispatcher"], Role.ADMIN),
        (["staff", "dispatcher"], Role.DISPATCHER),
        (["unrelated", "staff"], Role.STAFF),
    ],
)
def test_the_most_privileged_group_wins(groups: list[str], role: Role) -> None:
    assert principal_from_claims(claims(**{"cognito:groups": groups})).role is role


@pytest.mark.parametrize("groups", [None, [], "", "[]", ["customers"], "administrator", ["Owner"], 42])
def test_a_token_without_a_known_role_is_unauthorized(groups: Any) -> None:
    raw = claims()
    raw.pop("cognito:groups")
    if groups is not None:
        raw["cognito:groups"] = groups
    with pytest.raises(Unauthorized, match="role"):
        principal_from_claims(raw)


@pytest.mark.parametrize("tenant", [None, ""])
def test_a_token_without_a_tenant_is_unauthorized(tenant: str | None) -> None:
    raw = claims()
    raw.pop("custom:tenant_id")
    if tenant is not None:
        raw["custom:tenant_id"] = tenant
    with pytest.raises(Unauthorized, match="tenant"):
        principal_from_claims(raw)


def test_a_token_without_a_subject_is_unauthorized() -> None:
    raw = claims()
    raw.pop("sub")
    with pytest.raises(Unauthorized):
        principal_from_claims(raw)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_read(role: Role) -> None:
    Principal(user_id="u", tenant_id="t", role=role).require(ANY_ROLE)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_edit_the_catalogue_and_settings(role: Role) -> None:
    principal = Principal(user_id="u", tenant_id="t", role=role)
    principal.require(CATALOGUE_EDITORS)
    principal.require(SETTINGS_EDITORS)


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.STAFF])
@pytest.mark.parametrize("editors", [CATALOGUE_EDITORS, SETTINGS_EDITORS])
def test_staff_and_dispatchers_may_not_edit(role: Role, editors: frozenset[Role]) -> None:
    with pytest.raises(Forbidden, match=role.value):
        Principal(user_id="u", tenant_id="t", role=role).require(editors)
