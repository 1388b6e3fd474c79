"""Secrets Manager: patch 5 for secrets (each change to a secret published as a `SecretChange` carrying
`secret_state`, values included), and restoring saved secrets (`load_secrets`)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from local.moto._support import WRITE_LOCK, bound
from local.moto.events import SecretChange, publish
from local.moto.installing import ORIGINALS

# Secrets Manager calls that change a secret. Rotation is left out: it needs a rotation Lambda, which the
# local stack does not run.
SECRET_WRITES = (
    "create_secret",
    "put_secret_value",
    "update_secret",
    "update_secret_version_stage",
    "delete_secret",
    "restore_secret",
    "put_resource_policy",
    "delete_resource_policy",
    "tag_resource",
    "untag_resource",
)
# The FakeSecret attributes that make a secret what it is (the ARN keeps its random suffix, so ARNs that
# were handed out stay valid); `load_secrets` sets them back.
_SECRET_FIELDS = (
    "arn",
    "name",
    "description",
    "tags",
    "kms_key_id",
    "created_date",
    "last_changed_date",
    "deleted_date",
    "policy",
    "default_version_id",
    "versions",  # version id -> {"version_id", "version_stages", "createdate", "secret_string"/"secret_binary"}
)


def secret_state(secret: Any) -> dict[str, Any]:
    """A secret as plain JSON-able data, values included."""
    state = {name: copy.deepcopy(getattr(secret, name)) for name in _SECRET_FIELDS}
    return {"account": secret.account_id, "region": secret.region, **state}


def _secrets_write(name: str) -> Callable[..., Any]:
    original = ORIGINALS[f"secrets.{name}"]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.secretsmanager.models import FakeSecret

        arguments = bound(original, self, args, kwargs)
        identifier = next(arguments[k] for k in ("secret_id", "name", "arn") if k in arguments)
        with WRITE_LOCK:
            before = self.secrets.get(identifier)
            result = original(self, *args, **kwargs)
            after = self.secrets.get(identifier)  # by name or ARN; None once deleted for good
            if isinstance(after, FakeSecret):
                publish(SecretChange(self.region_name, after.name, secret_state(after)))
            elif after is None and isinstance(before, FakeSecret):
                publish(SecretChange(self.region_name, before.name, None))
            return result

    return wrapper


def load_secrets(saved: Iterable[dict[str, Any]]) -> None:
    """Puts saved secrets (as `secret_state` gave them) back as they were: same ARN, versions and stages,
    marked deleted if they were. Publishes nothing (they are not new)."""
    from moto.secretsmanager.models import FakeSecret, secretsmanager_backends

    for data in saved:
        secret = FakeSecret(
            account_id=data["account"],
            region_name=data["region"],
            secret_id=data["name"],
            secret_version={},
            version_id="",
        )
        for name in _SECRET_FIELDS:
            setattr(secret, name, copy.deepcopy(data[name]))
        secretsmanager_backends[data["account"]][data["region"]].secrets[secret.name] = secret


def apply() -> None:
    from moto.secretsmanager.models import SecretsManagerBackend

    for name in SECRET_WRITES:
        ORIGINALS[f"secrets.{name}"] = getattr(SecretsManagerBackend, name)
        setattr(SecretsManagerBackend, name, _secrets_write(name))
