"""The baseline of bench_api: a bare FastAPI JSON endpoint, served exactly like ``bqingest api``.

``python -m benchmarks.bare_app PORT`` serves ``GET /api/v1/{id}`` returning a fixed JSON
document of the same shape and size as a served event, with uvicorn configured as the
``bqingest api`` command configures it (one process, same loop and HTTP implementation, no
access log), and nothing else: no middleware, dependencies, cache, metrics or logging.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import FastAPI

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

app = FastAPI()


@app.get("/api/v1/{id}")
async def get_event(id: str) -> dict[str, Any]:
    return DOCUMENT


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
