"""Lambda SnapStart: each function's environment is initialised once, when a version is published, and
every cold start resumes a copy of that snapshot.

So a function does its expensive start-up (imports, compiled models, the resolver, clients) in a
before-snapshot hook, and each restored copy renews, in an after-restore hook, everything that must be its
own: the random seed (copies would otherwise draw the same numbers), and the AWS session (credentials
resolved at publish time, and connections that were opened then and are long gone). Values read from
Parameter Store are read again too, so a snapshot never pins a rotated secret.

`snapshot_restore_py` is part of Lambda's Python runtimes (3.12 and later); here it is a dev dependency, and
tests run the registered hooks as the runtime does. Without SnapStart nothing calls them: the function
builds what it needs on its first invocation instead.

What a function builds once per environment is a `PerEnvironment`: built on first use (or by the
before-snapshot hook), built afresh by the after-restore hook (`renew`), and replaced by the local stack
and the tests (`install`), instead of a module-level variable that each of them assigns.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from snapshot_restore_py import register_after_restore, register_before_snapshot

T = TypeVar("T")


class PerEnvironment(Generic[T]):
    """What an execution environment builds once: `build()` on first use, then the same object on every
    call, until `clear` (the next use builds it afresh), `renew` (built afresh now: after a restore, each
    copy's own clients, secrets and caches) or `install` (the local stack's, on its dev clock; a test's)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._built: list[T] = []  # empty, or the one object
        self._lock = threading.RLock()  # the local stack calls a function from several threads

    def __call__(self) -> T:
        with self._lock:
            if not self._built:
                self._built.append(self._build())
            return self._built[0]

    def install(self, value: T) -> None:
        with self._lock:
            self._built[:] = [value]

    def clear(self) -> None:
        with self._lock:
            self._built.clear()

    def renew(self) -> T:
        with self._lock:
            self.clear()
            return self()


def on_snapshot(prime: Callable[[], None], restored: Callable[[], None]) -> None:
    """Registers `prime` to run before the snapshot, and `restored` after each restore (once this module
    has renewed the environment, so `restored` builds its clients on the new session)."""
    register_before_snapshot(prime)
    register_after_restore(renew_environment)
    register_after_restore(restored)


def renew_environment() -> None:
    """A fresh random seed, a fresh default AWS session (its own credential resolution and connection
    pools, sharing the service models already loaded), and Parameter Store read afresh."""
    import boto3  # noqa: PLC0415 - loaded long before a restore; not at import, which must stay cheap
    import botocore.session  # noqa: PLC0415
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    random.seed()
    session = botocore.session.Session()
    if boto3.DEFAULT_SESSION is not None:
        # The parsed service models are the same in every copy: loading them again would cost the restore
        # what the snapshot saved.
        session.register_component("data_loader", boto3.DEFAULT_SESSION._session.get_component("data_loader"))
    boto3.setup_default_session(botocore_session=session)
    parameters.clear_caches()  # type: ignore[no-untyped-call]
