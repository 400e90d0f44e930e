"""The app factory: ``uvicorn --factory bqingest.api.main:create_app`` (or ``bqingest api``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bqingest import __version__
from bqingest.api import errors
from bqingest.api.logs import configure_logging
from bqingest.api.middleware import RequestObservability
from bqingest.api.routes import events, health
from bqingest.api.runtime import ApiRuntime
from bqingest.config import Settings, get_settings

DESCRIPTION = """\
Read back the CloudEvents that bqingest ingested into BigQuery, from its de-duplicated view,
and publish new ones to Pub/Sub.

* By id: `GET /api/v1/events/{id}` (or the original `GET /api/v1/{id}`), cached, with ETag.
* Listing and export: `GET /api/v1/events` (JSON pages, or NDJSON with
  `Accept: application/x-ndjson`); counts: `GET /api/v1/events/count`.
* Publishing: `POST /api/v1/events` with an API key in `X-API-Key`.

Every error has the same body: `{"error": {"code", "message", "field", "reason", "request_id"}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own runtime (pool, caches, metrics registry, clients)."""
    settings = settings or get_settings()
    settings.check_api_is_safe()
    configure_logging(settings)
    runtime = ApiRuntime.build(settings)

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
            runtime.close()

    app = FastAPI(
        title="bqingest API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "events", "description": "Ingested CloudEvents."},
            {"name": "health", "description": "Probes and metrics."},
        ],
    )
    app.state.runtime = runtime
    errors.install(app)
    events.register(
        app, public_read=bool(settings.public_read), post_enabled=settings.api_post_enabled
    )
    health.register(app)
    app.add_middleware(
        RequestObservability, metrics=runtime.metrics, access_log=bool(settings.api_access_log)
    )
    return app
