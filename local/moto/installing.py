"""How the patches keep what they replace, and how the guard test finds it.

Each patch module's `apply` puts the moto function it replaces or wraps in `ORIGINALS` (by its name in
PATCHED) before replacing it: the wrappers call it from there, and `original` hands it to the upgrade check.
`relied_on` finds a moto function named as in RELIED_ON ("module:Class.function"); `source_hash` is what
those two tables hold of each."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

ORIGINALS: dict[str, Any] = {}


def original(name: str) -> Any:
    """The moto function as it was before `install` (for the upgrade check)."""
    return ORIGINALS[name]


def source_hash(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def relied_on(name: str) -> Any:
    """A moto function named as in RELIED_ON ("module:Class.function")."""
    module_name, _, path = name.partition(":")
    target: Any = __import__(module_name, fromlist=["x"])
    for part in path.split("."):
        target = getattr(target, part)
    return target
