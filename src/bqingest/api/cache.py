"""An in-process TTL + LRU cache, counted in metrics.

Events are immutable once written, so a by-id answer can be served from memory; the TTL only
bounds how long a removed event (or a rare earlier duplicate that wins the de-duplicated view
later) could still be served. Used from the event loop only: no lock.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bqingest.api.metrics import ApiMetrics

V = TypeVar("V")


class TtlLruCache(Generic[V]):
    """At most ``max_entries`` values, each for ``ttl`` seconds; least recently used goes first.

    ``max_entries == 0`` or ``ttl == 0`` turns the cache off (every lookup is a miss).
    """

    def __init__(
        self,
        name: str,
        *,
        max_entries: int,
        ttl: float,
        metrics: ApiMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._hit = metrics.cache_events.labels(name, "hit")
        self._miss = metrics.cache_events.labels(name, "miss")
        self._eviction = metrics.cache_events.labels(name, "eviction")
        self._expiry = metrics.cache_events.labels(name, "expiry")
        self._size = metrics.cache_entries.labels(name)

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self._miss.inc()
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            self._expiry.inc()
            self._miss.inc()
            self._size.set(len(self._entries))
            return None
        self._entries.move_to_end(key)
        self._hit.inc()
        return value

    def put(self, key: str, value: V) -> None:
        if not self.enabled:
            return
        self._entries[key] = (self._clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self._eviction.inc()
        self._size.set(len(self._entries))


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """A by-id response ready to send: the JSON body and its strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> RenderedEvent:
        return cls(body=body, etag=f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')
