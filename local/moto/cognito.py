"""Cognito: patch 5 for users (after each call that changes a pool's users, the pool's users published
as a `UsersChange`: the local stack persists users; groups come from the template)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.moto._support import WRITE_LOCK, bound
from local.moto.events import UsersChange, publish
from local.moto.installing import ORIGINALS

# Cognito calls that change users.
COGNITO_USER_WRITES = (
    "admin_create_user",
    "admin_set_user_password",
    "admin_add_user_to_group",
    "admin_remove_user_from_group",
    "admin_update_user_attributes",
    "admin_delete_user_attributes",
    "admin_delete_user",
    "admin_disable_user",
    "admin_enable_user",
    "admin_confirm_sign_up",
    "admin_reset_user_password",
)


def users_of(backend: Any, pool_id: str) -> tuple[dict[str, Any], ...]:
    pool = backend.user_pools.get(pool_id)
    if pool is None:
        return ()
    return tuple(
        {
            "attributes": [dict(a) for a in user.attributes if a["Name"] != "sub"],
            "groups": sorted(g.group_name for g in user.groups),
            "enabled": user.enabled,
        }
        for user in pool.users.values()
    )


def _users_write(name: str) -> Callable[..., Any]:
    original = ORIGINALS[f"cognito.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = bound(original, self, args, kwargs)
        with WRITE_LOCK:
            result = original(self, *args, **kwargs)
            pool_id = arguments.get("user_pool_id")
            if pool_id:
                publish(UsersChange(pool_id, users_of(self, pool_id)))
            return result

    return wrapper


def apply() -> None:
    from moto.cognitoidp.models import CognitoIdpBackend

    for name in COGNITO_USER_WRITES:
        ORIGINALS[f"cognito.{name}"] = getattr(CognitoIdpBackend, name)
        setattr(CognitoIdpBackend, name, _users_write(name))
