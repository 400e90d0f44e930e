"""HTTP of the probes: liveness, readiness, metrics (:data:`router`)."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from bqingest.api.deps import ProbesControllerDep
from bqingest.api.serializers.probes import Alive, Readiness

_METRICS_EXAMPLE: Final = (
    'bqingest_api_requests_total{method="GET",route="/healthz",status="200"} 3.0\n'
)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive (no dependency is called)")
async def healthz() -> Alive:
    return Alive()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="BigQuery and Pub/Sub answer within the readiness deadline",
    responses={503: {"model": Readiness, "description": "A dependency did not answer."}},
)
async def readyz(controller: ProbesControllerDep) -> Response:
    readiness = await controller.readiness()
    status = 200 if readiness.status == "ready" else 503
    return JSONResponse(readiness.model_dump(mode="json"), status_code=status)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"example": _METRICS_EXAMPLE}}}},
)
async def metrics(controller: ProbesControllerDep) -> Response:
    return Response(controller.metrics_text(), media_type=CONTENT_TYPE_LATEST)
