"""How the patches are put in place, and how the guard test finds what they replaced.

`_replace` sets a localstripe attribute and keeps the original (its plain function) in `_ORIGINALS`, for
the wrappers that call it and for `original`; `lookup` finds a localstripe function by its name in PATCHED
and RELIED_ON ("module:Class.attribute"); `source_hash` is what those two tables hold of each.
`_reroute_extra_apis` points localstripe's extra routes at the replaced methods."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from localstripe import resources

from local.stripe_patches._support import server

_ORIGINALS: dict[str, Any] = {}


def _name(owner: Any, attribute: str) -> str:
    module = owner.__name__ if inspect.ismodule(owner) else owner.__module__
    qualified = attribute if inspect.ismodule(owner) else f"{owner.__qualname__}.{attribute}"
    return f"{module}:{qualified}"


def _plain(found: Any) -> Any:
    """The function behind a classmethod, staticmethod or property."""
    if isinstance(found, (classmethod, staticmethod)):
        return found.__func__
    if isinstance(found, property):
        return found.fget
    return found


def _replace(owner: Any, attribute: str, replacement: Any) -> None:
    """Sets owner.attribute, keeping the original (its plain function) for `original` and the wrappers;
    a classmethod or property stays one."""
    name = _name(owner, attribute)
    found = inspect.getattr_static(owner, attribute)
    _ORIGINALS.setdefault(name, _plain(found))
    if isinstance(found, classmethod):
        replacement = classmethod(replacement)
    elif isinstance(found, property):
        replacement = property(replacement)
    setattr(owner, attribute, replacement)


def lookup(name: str) -> Any:
    """A localstripe function as it is now, named as in PATCHED and RELIED_ON ("module:Class.attribute")."""
    module_name, _, path = name.partition(":")
    target: Any = __import__(module_name, fromlist=["x"])
    parts = path.split(".")
    for part in parts[:-1]:
        target = getattr(target, part)
    return _plain(inspect.getattr_static(target, parts[-1]))


def original(name: str) -> Any:
    """The localstripe function as it was before `install` (as it is, in a process that never installed)."""
    return _ORIGINALS[name] if name in _ORIGINALS else lookup(name)


def source_hash(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def _reroute_extra_apis() -> None:
    """localstripe's extra routes (confirm, cancel, capture, ...) were made at import from the methods then
    bound (`extra_apis`): each whose method a patch replaced is pointed at the replacement."""
    for method, url, bound in resources.extra_apis:
        owner = getattr(bound, "__self__", None)
        if not inspect.isclass(owner) or getattr(owner, bound.__name__) == bound:
            continue
        routes = [
            r
            for r in server.app.router.routes()
            if r.method == method and r.resource and r.resource.canonical == url
        ]
        if len(routes) != 1:
            raise RuntimeError(f"localstripe has no route {method} {url} to patch")
        routes[0]._handler = server.api_extra(getattr(owner, bound.__name__), url)
