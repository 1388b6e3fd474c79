"""What several of the patches share: the one write lock, an error answered in the called service's
format, and a call's arguments by name."""

from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.core.exceptions import ServiceException

# Patch 3: DynamoDB writes and stream reads, and every other captured change, one at a time.
WRITE_LOCK = threading.RLock()


class AwsError(ServiceException):
    """An error answered in the called service's own format (defined outside moto's packages, so moto
    looks its code up in the service being called)."""


def bound(original: Any, self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a call to `original` by parameter name, defaults included."""
    arguments = inspect.signature(original).bind(self, *args, **kwargs)
    arguments.apply_defaults()
    return dict(arguments.arguments)
