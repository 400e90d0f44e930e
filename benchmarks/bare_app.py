"""The baseline of bench_api: a bare FastAPI JSON endpoint, served exactly like ``bqingest api``.

``python -m benchmarks.bare_app PORT`` serves ``GET /api/v1/{id}`` returning a fixed JSON
document of the same shape and size as a served event, with uvicorn configured as the
``bqingest api`` command configures it (one process, same loop and HTTP implementation, no
access log), and nothing else: no middleware, dependencies, cache, metrics or logging.

It declares what the API's by-id route declares, the way the API declares it: the path ``id``
with its pattern, ``?source=`` and ``If-None-Match`` (the same annotations, imported), on an
``APIRouter`` included in the app. FastAPI's work for those is then in both, and the ratio
measures the project's own work. FastAPI's other settings are its defaults.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from bqingest.api.serializers.events import EventIdPath, IfNoneMatchHeader, SourceQuery

DOCUMENT: dict[str, Any] = {
    "event": {
        "specversion": "1.0",
        "id": "bench-000000",
        "source": "//bench.example.com/orders",
        "type": "com.example.order.created",
        "time": "2026-11-29T07:00:00Z",
        "datacontenttype": "application/json",
        "data": {"order_id": "bench-000000", "amount": 12.5, "currency": "EUR"},
    },
    "ingestion": {
        "message_id": "m-bench-000000",
        "publish_time": "2026-11-29T07:00:01Z",
        "ingested_at": "2026-11-29T07:00:01Z",
        "attributes": None,
    },
}

router = APIRouter()


@router.get("/api/v1/{id}")
async def get_event(
    id: EventIdPath, source: SourceQuery = None, if_none_match: IfNoneMatchHeader = None
) -> dict[str, Any]:
    return DOCUMENT


app = FastAPI()
app.include_router(router)


def main() -> None:
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=int(sys.argv[1]),
            log_config=None,
            access_log=False,
            server_header=False,
        )
    ).run()


if __name__ == "__main__":
    main()
