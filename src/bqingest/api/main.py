"""The app factory: ``uvicorn --factory bqingest.api.main:create_app`` (or ``bqingest api``).

This is where the API is put together: settings -> metrics, pool, cache, the warehouse's
:class:`~bqingest.warehouse.events.EventStore` and the Pub/Sub publisher -> one controller per
use case, each given exactly what it uses. Tests pass fakes of the reader and the publisher.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from bqingest import __version__, clients
from bqingest.api import errors
from bqingest.api.cache import EventCache
from bqingest.api.controllers.events import EventsController, ReadLimits
from bqingest.api.controllers.probes import ProbesController
from bqingest.api.controllers.publishing import PublishController, PublishLimits
from bqingest.api.controllers.types import TypesController
from bqingest.api.deps import Controllers
from bqingest.api.logs import configure_logging
from bqingest.api.metrics import build_metrics
from bqingest.api.middleware import RequestObservability
from bqingest.api.pool import WarehousePool
from bqingest.api.publisher import EventPublisher, PubSubPublisher
from bqingest.api.routes import events, probes, types
from bqingest.api.security import ApiKeys
from bqingest.config import ApiSettings, load
from bqingest.contract.registry import SchemaRegistry, UnknownTypes
from bqingest.warehouse.events import EventReader, EventStore, QueryBounds

DESCRIPTION = """\
Read back the CloudEvents that bqingest ingested into BigQuery, one row per event (an event is
its source and id), and publish new ones to Pub/Sub.

* By id: `GET /api/v1/events/{id}` (or the original `GET /api/v1/{id}`), cached, with ETag;
  `?source=` chooses when several sources used the id (409 otherwise).
* Listing and export: `GET /api/v1/events` (JSON pages, or NDJSON with
  `Accept: application/x-ndjson`); counts: `GET /api/v1/events/count`. Each covers a window of
  event time (`since`, `until`; without `since`, the last week by default).
* Publishing: `POST /api/v1/events` with an API key in `X-API-Key`.

Every error has the same body: `{"error": {"code", "message", "field", "reason", "request_id"}}`.
"""


NO_OPENTELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry instrumentation, off: the API's metrics are Prometheus series and
its traces are Cloud Trace ids in the logs. Left on, it looks up the global OpenTelemetry
providers (and their environment variables) on every request, about 3 us of a cached GET by id,
only to find none configured. Turn it on here if the API ever exports OpenTelemetry."""


def event_store(settings: ApiSettings) -> EventStore:
    """The warehouse reader the API uses in both places (a client made on first use)."""
    return EventStore(
        partial(clients.bigquery_client, settings.endpoints),
        table_id=settings.events_table_id,
        bounds=QueryBounds(
            timeout=settings.api_query_timeout_seconds,
            maximum_bytes_billed=settings.api_maximum_bytes_billed,
            check_timeout=settings.api_readiness_timeout_seconds,
        ),
    )


def create_app(
    settings: ApiSettings | None = None,
    *,
    reader: EventReader | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """A new app with its own pool, cache, metrics registry and clients.

    ``reader``, ``publisher`` and ``clock`` (what "now" is for default windows) are the seams
    tests replace.
    """
    settings = settings or load(ApiSettings)
    settings.check_api_is_safe()
    access_log = configure_logging(settings)
    metrics = build_metrics()
    pool = WarehousePool(
        threads=settings.api_threads,
        queue_size=settings.api_queue_size,
        deadline=settings.api_query_timeout_seconds,
        metrics=metrics,
    )
    store: EventStore | None = None  # what this app made, it closes
    if reader is None:
        reader = store = event_store(settings)
    pubsub: PubSubPublisher | None = None
    if publisher is None:
        publisher = pubsub = PubSubPublisher(settings)
    visibility = "public" if settings.public_read else "private"
    schemas = SchemaRegistry.load(
        settings.schemas_dir, unknown_types=UnknownTypes(settings.unknown_types)
    )
    types_controller = TypesController(schemas)
    controllers = Controllers(
        events=EventsController(
            reader=reader,
            pool=pool,
            cache=EventCache(
                max_bytes=settings.api_cache_max_bytes,
                max_event_bytes=settings.api_cache_max_event_bytes,
                ttl=settings.api_cache_ttl_seconds,
                negative_ttl=settings.api_negative_cache_ttl_seconds,
                metrics=metrics,
            ),
            limits=ReadLimits(
                export_max_rows=settings.api_export_max_rows,
                count_max_groups=settings.api_count_max_groups,
                default_window=timedelta(hours=settings.api_default_window_hours),
                cache_control=f"{visibility}, max-age={settings.api_http_max_age_seconds}",
            ),
            **({"clock": clock} if clock is not None else {}),
            data_filters=types_controller.data_filters,
        ),
        publishing=PublishController(
            publisher=publisher,
            limits=PublishLimits(
                max_events=settings.api_post_max_events,
                max_message_bytes=settings.max_message_bytes,
                max_body_bytes=settings.api_post_max_bytes,
                max_inflight_bytes=settings.api_post_max_inflight_bytes,
            ),
            metrics=metrics,
            schemas=schemas,
        ),
        probes=ProbesController(
            checks={"warehouse": reader.check, "pubsub": publisher.check},
            pool=pool,
            deadline=settings.api_readiness_timeout_seconds,
            registry=metrics.registry,
        ),
        api_keys=ApiKeys(settings.api_keys),
        public_read=settings.public_read,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything imported and built so far lives as long as the process: keep it out of
        # the cyclic collector's full passes, which otherwise stall requests for milliseconds
        # (the Google client libraries make a large heap).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            pool.shutdown()
            if store is not None:
                store.close()
            if pubsub is not None:
                pubsub.close()

    app = FastAPI(
        title="bqingest API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "events", "description": "Ingested CloudEvents."},
            {"name": "health", "description": "Probes and metrics."},
        ],
        telemetry=NO_OPENTELEMETRY,
        # Swagger UI and ReDoc load their scripts from a CDN, unpinned: only on a developer's
        # machine. /openapi.json (no script) is served everywhere.
        docs_url="/docs" if settings.is_local else None,
        redoc_url="/redoc" if settings.is_local else None,
    )
    app.state.controllers = controllers
    errors.install(app)
    app.state.types_controller = types_controller
    # types first: /api/v1/types would otherwise be read as the event id "types"
    app.include_router(types.router(public_read=settings.public_read))
    app.include_router(
        events.router(public_read=settings.public_read, post_enabled=settings.api_post_enabled)
    )
    app.include_router(probes.router)
    app.add_middleware(
        RequestObservability,
        metrics=metrics,
        access_log=access_log if settings.api_access_log else None,
    )
    return app
