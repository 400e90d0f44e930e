"""HTTP of the probes: liveness, readiness, metrics (added by :func:`register`)."""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from bqingest.api.deps import ProbesControllerDep, ReadAccess
from bqingest.api.serializers.probes import Alive, Readiness


async def healthz() -> Alive:
    return Alive()


async def readyz(controller: ProbesControllerDep) -> Response:
    readiness = await controller.readiness()
    status = 200 if readiness.status == "ready" else 503
    return JSONResponse(readiness.model_dump(mode="json"), status_code=status)


async def metrics(controller: ProbesControllerDep) -> Response:
    return Response(controller.metrics_text(), media_type=CONTENT_TYPE_LATEST)


_METRICS_EXAMPLE: Final = (
    'bqingest_api_requests_total{method="GET",route="/healthz",status="200"} 3.0\n'
)


def register(app: FastAPI, *, public_read: bool = True) -> None:
    """Add the probes and the metrics endpoint to ``app``; the metrics need the same key as
    reads unless reads are public (they name routes, volumes and error rates)."""
    app.add_api_route(
        "/healthz",
        healthz,
        methods=["GET"],
        tags=["health"],
        summary="The process is alive (no dependency is called)",
    )
    app.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        tags=["health"],
        response_model=Readiness,
        summary="BigQuery and Pub/Sub answer within the readiness deadline",
        responses={503: {"model": Readiness, "description": "A dependency did not answer."}},
    )
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        tags=["health"],
        summary="Prometheus metrics",
        description="Needs an API key with the read scope unless reads are public.",
        dependencies=[] if public_read else [ReadAccess],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"example": _METRICS_EXAMPLE}}}},
    )
