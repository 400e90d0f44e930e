"""The by-id cache: a bound in bytes, a size limit per event, expiry, and its metrics."""

from __future__ import annotations

from bqingest.api.cache import NEGATIVE_ENTRIES, EventCache, RenderedEvent
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


def body(size: int) -> RenderedEvent:
    return RenderedEvent.of(b"x" * size)


def cache_of(metrics, **overrides) -> EventCache:
    values = {"max_bytes": 10_000, "max_event_bytes": 5_000, "ttl": 60.0, "negative_ttl": 2.0}
    values.update(overrides)
    return EventCache(metrics=metrics, **values)


def test_the_cache_holds_at_most_its_bytes_and_evicts_the_least_recently_used() -> None:
    metrics = build_metrics()
    cache = cache_of(metrics)
    events = {key: body(2_000) for key in "abcde"}  # 2,200 bytes each with the overhead
    for key in "abcd":
        cache.put(key, events[key])
    assert cache.get("a") is events["a"]  # a is now the most recent
    cache.put("e", events["e"])  # 5 x 2,200 > 10,000: the least recently used (b) goes
    assert cache.bytes_held <= 10_000
    assert cache.get("b") is None
    assert all(cache.get(key) is events[key] for key in "acde")
    assert sample(metrics, "event", "eviction") == 1
    assert sample(metrics, "event", "hit") == 5
    assert sample(metrics, "event", "miss") == 1


def test_a_body_over_the_per_event_bound_is_never_cached() -> None:
    metrics = build_metrics()
    cache = cache_of(metrics)
    cache.put("big", body(6_000))
    assert cache.get("big") is None
    assert cache.bytes_held == 0


def test_ten_thousand_one_mebibyte_bodies_stay_within_the_budget() -> None:
    metrics = build_metrics()
    cache = cache_of(metrics, max_bytes=64 * 1024**2, max_event_bytes=2 * 1024**2)
    one_mib = body(1024**2)
    for n in range(200):  # 200 MiB offered to a 64 MiB cache
        cache.put(f"e{n}", one_mib)
    assert cache.bytes_held <= 64 * 1024**2
    assert sample(metrics, "event", "eviction") >= 200 - 64


def test_entries_expire() -> None:
    clock = Clock()
    metrics = build_metrics()
    cache = cache_of(metrics, ttl=5.0, clock=clock)
    cache.put("a", body(10))
    clock.now += 4.9
    assert cache.get("a") is not None
    clock.now += 0.2
    assert cache.get("a") is None
    cache.put("b", body(10))  # expiry is noticed (and counted) when the cache is written
    assert sample(metrics, "event", "expiry") == 1


def test_absent_ids_are_remembered_for_the_negative_ttl() -> None:
    clock = Clock()
    metrics = build_metrics()
    cache = cache_of(metrics, negative_ttl=2.0, clock=clock)
    assert not cache.is_missing("x")
    cache.put_missing("x")
    assert cache.is_missing("x")
    clock.now += 2.1
    assert not cache.is_missing("x")
    assert sample(metrics, "missing_event", "hit") == 1
    assert sample(metrics, "missing_event", "miss") == 2
    for n in range(NEGATIVE_ENTRIES + 10):
        cache.put_missing(f"id-{n}")
    assert sample(metrics, "missing_event", "eviction") >= 10


def test_zero_bytes_or_ttl_turns_it_off() -> None:
    for overrides in ({"max_bytes": 0}, {"ttl": 0.0}):
        cache = cache_of(build_metrics(), **overrides)
        cache.put("a", body(10))
        assert cache.get("a") is None
    off = cache_of(build_metrics(), negative_ttl=0.0)
    off.put_missing("a")
    assert not off.is_missing("a")


def test_rendered_event_has_a_strong_etag_of_its_body() -> None:
    first, same, other = RenderedEvent.of(b"{}"), RenderedEvent.of(b"{}"), RenderedEvent.of(b"[]")
    assert first.etag == same.etag != other.etag
    assert first.etag.startswith('"') and not first.etag.startswith("W/")
