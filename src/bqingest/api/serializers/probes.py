"""Response schemas of the probe endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Alive(BaseModel):
    """The process answers."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class Check(BaseModel):
    """One dependency's answer to the readiness probe."""

    ok: bool
    seconds: float = Field(description="How long it took to answer (or to give up).")
    error: str | None = Field(None, description="Error code when not ok (timeout, ...).")


class Readiness(BaseModel):
    """Whether the warehouse and Pub/Sub answer within the readiness deadline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "warehouse": {"ok": True, "seconds": 0.021, "error": None},
                        "pubsub": {"ok": True, "seconds": 0.004, "error": None},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    checks: dict[str, Check]
