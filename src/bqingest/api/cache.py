"""The by-id cache: rendered events in memory, bounded in bytes, with a short negative cache.

Events are immutable once written, so a by-id answer can be served from memory; the TTL only
bounds how long a removed event (or a rare earlier duplicate that wins the de-duplicated view
later) could still be served. Both caches are cachetools' LRU caches with a time-to-live; the
positive one is bounded by the bytes of the bodies it holds, and bodies over a size are never
cached, so the cache cannot outgrow its budget whatever clients ask for. Hits, misses, evictions
and expiries are counted in the API's metrics. Used from the event loop only: no lock.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from cachetools import TTLCache
from prometheus_client import Counter, Gauge

from bqingest.api.metrics import ApiMetrics

NEGATIVE_ENTRIES: Final = 10_000
"""Ids remembered as absent (a key and a flag each: well under a MiB)."""
_ENTRY_OVERHEAD: Final = 200
"""Bytes an entry costs besides its body (key, ETag, bookkeeping), roughly."""


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """A by-id response ready to send: the JSON body and its strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> RenderedEvent:
        return cls(body=body, etag=f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')

    @property
    def size(self) -> int:
        return len(self.body) + _ENTRY_OVERHEAD


class _CountedCache(TTLCache):  # type: ignore[type-arg]
    """A TTL + LRU cache that counts what it drops in the API's metrics."""

    def __init__(
        self,
        *,
        maxsize: int,
        ttl: float,
        timer: Callable[[], float],
        getsizeof: Callable[[Any], int] | None,
        evictions: Counter,
        expiries: Counter,
    ) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl, timer=timer, getsizeof=getsizeof)
        self._evictions = evictions
        self._expiries = expiries

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._evictions.inc()
        return item

    def expire(self, time: float | None = None) -> list[tuple[Any, Any]]:
        expired: list[tuple[Any, Any]] = list(super().expire(time))
        if expired:
            self._expiries.inc(len(expired))
        return expired


class _Labelled:
    """One cache's series: hit, miss, eviction, expiry counters and the bytes gauge."""

    def __init__(self, metrics: ApiMetrics, name: str) -> None:
        self.hit = metrics.cache_events.labels(name, "hit")
        self.miss = metrics.cache_events.labels(name, "miss")
        self.eviction = metrics.cache_events.labels(name, "eviction")
        self.expiry = metrics.cache_events.labels(name, "expiry")
        self.entries: Gauge = metrics.cache_entries.labels(name)


class EventCache:
    """Rendered events by id (bytes-bounded) and ids known to be absent (count-bounded).

    ``max_bytes == 0`` or ``ttl == 0`` turns the positive cache off; ``negative_ttl == 0`` the
    negative one.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_event_bytes: int,
        ttl: float,
        negative_ttl: float,
        metrics: ApiMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_event_bytes = max_event_bytes
        self._events = _Labelled(metrics, "event")
        self._missing = _Labelled(metrics, "missing_event")
        self._positive = (
            _CountedCache(
                maxsize=max_bytes,
                ttl=ttl,
                timer=clock,
                getsizeof=lambda rendered: rendered.size,
                evictions=self._events.eviction,
                expiries=self._events.expiry,
            )
            if max_bytes > 0 and ttl > 0
            else None
        )
        self._negative = (
            _CountedCache(
                maxsize=NEGATIVE_ENTRIES,
                ttl=negative_ttl,
                timer=clock,
                getsizeof=None,
                evictions=self._missing.eviction,
                expiries=self._missing.expiry,
            )
            if negative_ttl > 0
            else None
        )

    @property
    def bytes_held(self) -> int:
        return int(self._positive.currsize) if self._positive is not None else 0

    def get(self, key: str) -> RenderedEvent | None:
        """The rendered event, or None (counted as a hit or a miss)."""
        found = self._positive.get(key) if self._positive is not None else None
        (self._events.hit if found is not None else self._events.miss).inc()
        return found

    def put(self, key: str, rendered: RenderedEvent) -> None:
        """Keep ``rendered`` unless the cache is off or the body is over the per-event bound."""
        cache = self._positive
        if cache is None or rendered.size > self.max_event_bytes or rendered.size > cache.maxsize:
            return
        cache[key] = rendered
        self._events.entries.set(len(cache))

    def is_missing(self, key: str) -> bool:
        """Whether ``key`` was found absent within the negative TTL (a hit or a miss)."""
        missing = self._negative is not None and self._negative.get(key, False)
        (self._missing.hit if missing else self._missing.miss).inc()
        return bool(missing)

    def put_missing(self, key: str) -> None:
        if self._negative is not None:
            self._negative[key] = True
            self._missing.entries.set(len(self._negative))
