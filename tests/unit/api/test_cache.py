"""The TTL + LRU cache: size bound, expiry, and its metrics."""

from __future__ import annotations

from bqingest.api.cache import RenderedEvent, TtlLruCache
from bqingest.api.metrics import build_metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(metrics, cache: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "bqingest_api_cache_events_total", {"cache": cache, "result": result}
    )
    return value or 0.0


def test_least_recently_used_goes_first() -> None:
    metrics = build_metrics()
    cache: TtlLruCache[int] = TtlLruCache("c", max_entries=2, ttl=60, metrics=metrics)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2
    assert sample(metrics, "c", "eviction") == 1
    assert sample(metrics, "c", "hit") == 3
    assert sample(metrics, "c", "miss") == 1
    assert metrics.registry.get_sample_value("bqingest_api_cache_entries", {"cache": "c"}) == 2


def test_entries_expire() -> None:
    clock = Clock()
    metrics = build_metrics()
    cache: TtlLruCache[str] = TtlLruCache("c", max_entries=10, ttl=5, metrics=metrics, clock=clock)
    cache.put("a", "x")
    clock.now += 4.9
    assert cache.get("a") == "x"
    clock.now += 0.2
    assert cache.get("a") is None
    assert len(cache) == 0
    assert sample(metrics, "c", "expiry") == 1


def test_size_or_ttl_zero_turns_it_off() -> None:
    for size, ttl in ((0, 60), (10, 0)):
        cache: TtlLruCache[int] = TtlLruCache(
            "c", max_entries=size, ttl=ttl, metrics=build_metrics()
        )
        cache.put("a", 1)
        assert cache.get("a") is None
        assert not cache.enabled


def test_rendered_event_has_a_strong_etag_of_its_body() -> None:
    first, same, other = RenderedEvent.of(b"{}"), RenderedEvent.of(b"{}"), RenderedEvent.of(b"[]")
    assert first.etag == same.etag != other.etag
    assert first.etag.startswith('"') and not first.etag.startswith("W/")
