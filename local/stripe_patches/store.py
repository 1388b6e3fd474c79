"""Patch 7, localstripe's store kept where we say (`keep_store_in`), not in /tmp/localstripe.pickle."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from localstripe import resources

from local.stripe_patches.installing import _replace


def keep_store_in(state: Path | None) -> None:
    """Moves localstripe's store from /tmp/localstripe.pickle to `state` (None: memory only).

    localstripe pickles the whole store on every item set and again after each POST/PUT/DELETE request;
    only the latter is kept (it runs before the response is sent, so an acknowledged change is on disk),
    written to a temporary file and renamed, so that a kill mid-write leaves the previous state whole."""

    def load(store: Any) -> None:
        if state is None or not state.exists():
            return
        try:
            with state.open("rb") as file:
                saved = pickle.load(file)  # noqa: S301 (our own file, written by this module)
        except Exception as error:  # e.g. written by another localstripe version: keep it, start empty
            aside = state.with_suffix(".unreadable")
            os.replace(state, aside)
            print(f"could not read {state} ({error!r}); moved to {aside}, starting empty", flush=True)
            return
        store.clear()
        dict.update(store, saved)

    def dump(store: Any) -> None:
        if state is None:
            return
        tmp = state.with_suffix(".tmp")
        with tmp.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, state)

    def set_item(store: Any, key: Any, value: Any) -> None:
        dict.__setitem__(store, key, value)

    def del_item(store: Any, key: Any) -> None:
        dict.__delitem__(store, key)

    for name, replacement in (
        ("try_load_from_disk", load),
        ("dump_to_disk", dump),
        ("__setitem__", set_item),
        ("__delitem__", del_item),
    ):
        _replace(resources.Store, name, replacement)
