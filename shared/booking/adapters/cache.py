"""A short-lived in-process cache of the catalogue for hot public reads (availability, booking).

A Lambda container serves many requests; re-reading a catalogue that changes a few times a day on every
availability call would double its cost. Writes through this process invalidate at once; other
containers see a change within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from booking.domain.catalogue import Catalogue
from booking.ports import CatalogueReader

DEFAULT_TTL_SECONDS = 30.0


class CachedCatalogue:
    def __init__(
        self,
        source: CatalogueReader,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._slugs: dict[str, tuple[float, str | None]] = {}
        self._catalogues: dict[str, tuple[float, Catalogue | None]] = {}
        self._lock = threading.Lock()

    def tenant_for_slug(self, slug: str) -> str | None:
        now = self._monotonic()
        with self._lock:
            hit = self._slugs.get(slug)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        tenant_id = self._source.tenant_for_slug(slug)
        with self._lock:
            self._slugs[slug] = (now, tenant_id)
        return tenant_id

    def load_catalogue(self, tenant_id: str) -> Catalogue | None:
        now = self._monotonic()
        with self._lock:
            hit = self._catalogues.get(tenant_id)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        catalogue = self._source.load_catalogue(tenant_id)
        with self._lock:
            self._catalogues[tenant_id] = (now, catalogue)
        return catalogue

    def invalidate(self) -> None:
        with self._lock:
            self._slugs.clear()
            self._catalogues.clear()
