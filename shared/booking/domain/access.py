"""Who is calling, for which tenant, in which role, and what each role may do.

Admin users live in Cognito. Their tenant travels in the `custom:tenant_id` claim and their role as a
Cognito group (`cognito:groups`). On AWS, API Gateway's Cognito authorizer verifies the token and passes
the claims on; locally the dev server verifies the same tokens against the embedded Cognito's JWKS.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from booking.domain.errors import Forbidden, Unauthorized

TENANT_CLAIM = "custom:tenant_id"
STAFF_CLAIM = "custom:staff_id"
GROUPS_CLAIM = "cognito:groups"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    STAFF = "staff"


# Most privileged first: a user in several groups acts with the strongest role.
_ROLE_ORDER = (Role.OWNER, Role.ADMIN, Role.DISPATCHER, Role.STAFF)

CATALOGUE_EDITORS: frozenset[Role] = frozenset({Role.OWNER, Role.ADMIN})
SETTINGS_EDITORS: frozenset[Role] = frozenset({Role.OWNER, Role.ADMIN})
ANY_ROLE: frozenset[Role] = frozenset(Role)
# Who may place a booking outside the staff member's shifts (booking for a client, or moving a booking):
# those who run the diary and the staff member themselves; a dispatcher books within shifts only.
OUTSIDE_SHIFT_BOOKERS: frozenset[Role] = frozenset({Role.OWNER, Role.ADMIN, Role.STAFF})
# Everyone who works the diary (staff see their own bookings only).
DIARY_ROLES: frozenset[Role] = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER, Role.STAFF})


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: str
    role: Role
    email: str | None = None
    staff_id: str | None = None

    def require(self, allowed: Collection[Role]) -> None:
        if self.role not in allowed:
            raise Forbidden(f"the {self.role.value} role may not do this")


def _groups(raw: Any) -> list[str]:
    # API Gateway REST authorizers pass list claims as a string ("owner" or "[owner admin]" or "a,b");
    # a verified JWT has a real list.
    if isinstance(raw, list):
        return [str(g) for g in raw]
    if isinstance(raw, str):
        return [g for g in re.split(r"[\s,\[\]]+", raw) if g]
    return []


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Turns verified token claims into a principal; a token without tenant or role is not one of ours."""
    tenant_id = claims.get(TENANT_CLAIM)
    subject = claims.get("sub")
    if not tenant_id or not subject:
        raise Unauthorized("the token carries no tenant")
    groups = set(_groups(claims.get(GROUPS_CLAIM)))
    role = next((r for r in _ROLE_ORDER if r.value in groups), None)
    if role is None:
        raise Unauthorized("the token carries no role")
    return Principal(
        user_id=str(subject),
        tenant_id=str(tenant_id),
        role=role,
        email=claims.get("email"),
        staff_id=claims.get(STAFF_CLAIM) or None,
    )
