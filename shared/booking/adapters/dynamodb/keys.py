"""Every DynamoDB key the application uses is built here, and only here.

Single table, generic key names (pk, sk). Every tenant-owned key starts with the tenant id, so a query can
never wander into another tenant's data. The one exception is the slug registry: a public URL names a
business by slug before we know its tenant, and a slug must be unique across tenants, which only a
conditional write on one shared key can guarantee (a GSI is eventually consistent). That item holds
nothing but the slug and the tenant id it points to.
"""

from __future__ import annotations

from typing import Final

PK: Final = "pk"
SK: Final = "sk"

BUSINESS_SK: Final = "BUSINESS"
CATEGORY_PREFIX: Final = "CATEGORY#"
SERVICE_PREFIX: Final = "SERVICE#"
STAFF_PREFIX: Final = "STAFF#"
ASSIGNMENT_PREFIX: Final = "ASSIGN#"
SLUG_SK: Final = "SLUG"


def tenant_pk(tenant_id: str) -> str:
    """The catalogue partition of a tenant: business, categories, services, staff, assignments."""
    return f"T#{tenant_id}"


def business_key(tenant_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: BUSINESS_SK}


def category_key(tenant_id: str, category_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: CATEGORY_PREFIX + category_id}


def service_key(tenant_id: str, service_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: SERVICE_PREFIX + service_id}


def staff_key(tenant_id: str, staff_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: STAFF_PREFIX + staff_id}


def assignment_key(tenant_id: str, service_id: str, staff_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: f"{ASSIGNMENT_PREFIX}{service_id}#{staff_id}"}


def slug_key(slug: str) -> dict[str, str]:
    return {PK: f"SLUG#{slug}", SK: SLUG_SK}
