"""The objects one app lives with: settings, metrics, pool, caches, keys, warehouse, publisher.

Built once by :func:`bqingest.api.main.create_app`, reached by routes only through
``bqingest.api.deps``; closed by the app's lifespan.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bqingest.api.cache import RenderedEvent, TtlLruCache
from bqingest.api.metrics import ApiMetrics, build_metrics
from bqingest.api.pool import WarehousePool
from bqingest.api.security import ApiKeys
from bqingest.api.warehouse import BigQueryWarehouse, PubSubPublisher
from bqingest.config import Settings


@dataclass
class ApiRuntime:
    """Everything shared by the requests of one app."""

    settings: Settings
    metrics: ApiMetrics
    pool: WarehousePool
    events_cache: TtlLruCache[RenderedEvent]
    missing_cache: TtlLruCache[bool]
    api_keys: ApiKeys
    warehouse: BigQueryWarehouse
    publisher: PubSubPublisher
    cache_control: str
    lookups: dict[str, asyncio.Future[RenderedEvent | None]] = field(default_factory=dict)
    """By-id lookups in flight: concurrent misses for one id share one query."""

    @classmethod
    def build(cls, settings: Settings) -> ApiRuntime:
        metrics = build_metrics()
        visibility = "public" if settings.public_read else "private"
        return cls(
            settings=settings,
            metrics=metrics,
            pool=WarehousePool(
                threads=settings.api_threads,
                queue_size=settings.api_queue_size,
                deadline=settings.api_query_timeout_seconds,
                metrics=metrics,
            ),
            events_cache=TtlLruCache(
                "event",
                max_entries=settings.api_cache_size,
                ttl=settings.api_cache_ttl_seconds,
                metrics=metrics,
            ),
            missing_cache=TtlLruCache(
                "missing_event",
                max_entries=settings.api_cache_size,
                ttl=settings.api_negative_cache_ttl_seconds,
                metrics=metrics,
            ),
            api_keys=ApiKeys(settings.api_keys),
            warehouse=BigQueryWarehouse(settings),
            publisher=PubSubPublisher(settings),
            cache_control=f"{visibility}, max-age={settings.api_http_max_age_seconds}",
        )

    def close(self) -> None:
        self.pool.shutdown()
        self.warehouse.close()
        self.publisher.close()
