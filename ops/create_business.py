"""Registers a new business (tenant) and its owner on a deployed stack.

    TABLE_NAME=... USER_POOL_ID=... AWS_PROFILE=... python -m ops.create_business \\
        --name "Serenity Day Spa" --slug serenity-spa --time-zone Europe/London --currency GBP \\
        --owner-email owner@example.com

Cognito emails the owner a temporary password. Further users are added the same way with --role and
--tenant-id (admin, staff with --staff-id, dispatcher).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

import boto3

from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.system import SystemClock, UlidGenerator
from booking.domain.access import Role
from booking.domain.catalogue import BusinessSettings
from booking.services.catalogue import CatalogueService

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.type_defs import AttributeTypeTypeDef


def create_user(pool_id: str, email: str, tenant_id: str, role: Role, staff_id: str | None) -> None:
    cognito = boto3.client("cognito-idp")
    attributes: list[AttributeTypeTypeDef] = [
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:tenant_id", "Value": tenant_id},
    ]
    if staff_id:
        attributes.append({"Name": "custom:staff_id", "Value": staff_id})
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, UserAttributes=attributes)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=role.value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name")
    parser.add_argument("--slug")
    parser.add_argument("--time-zone")
    parser.add_argument("--currency")
    parser.add_argument("--owner-email", help="creates the business and this owner")
    parser.add_argument("--tenant-id", help="adds a user to an existing business instead")
    parser.add_argument("--email")
    parser.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    parser.add_argument("--staff-id")
    args = parser.parse_args()
    pool_id = os.environ["USER_POOL_ID"]
    if args.tenant_id:
        create_user(pool_id, args.email, args.tenant_id, Role(args.role), args.staff_id)
        print(f"added {args.email} as {args.role}")
        return
    repository = DynamoCatalogueRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    business = CatalogueService(repository, SystemClock(), UlidGenerator()).create_business(
        BusinessSettings(name=args.name, slug=args.slug, time_zone=args.time_zone, currency=args.currency)
    )
    create_user(pool_id, args.owner_email, business.id, Role.OWNER, None)
    print(
        f"created {business.name} ({business.id}) at /v1/public/businesses/{business.slug}; owner {args.owner_email}"
    )


if __name__ == "__main__":
    main()
