"""Probe use cases: is the process alive, do its dependencies answer, what are its metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest

from bqingest.api.errors import ApiError
from bqingest.api.pool import WarehousePool
from bqingest.api.serializers.probes import Check, Readiness

logger = logging.getLogger("bqingest.api.probes")


READINESS_TTL_SECONDS: Final = 2.0
"""How long one readiness answer serves every probe: each answer costs two Google calls through
the warehouse pool, so a flood of probes would otherwise shed real reads with 503."""


class ProbesController:
    """Readiness over the dependencies' checks, each within the readiness deadline, the answer
    kept for :data:`READINESS_TTL_SECONDS` (probes that arrive while it is computed wait for it)."""

    def __init__(
        self,
        *,
        checks: Mapping[str, Callable[[], None]],
        pool: WarehousePool,
        deadline: float,
        registry: CollectorRegistry,
        ttl: float = READINESS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._pool = pool
        self._deadline = deadline
        self._registry = registry
        self._ttl = ttl
        self._clock = clock
        self._answer: tuple[float, Readiness] | None = None
        self._lock = asyncio.Lock()

    async def readiness(self) -> Readiness:
        """The last answer if it is recent, else every dependency probed at once."""
        async with self._lock:
            if self._answer is not None and self._clock() - self._answer[0] < self._ttl:
                return self._answer[1]
            answer = await self._probe_all()
            self._answer = (self._clock(), answer)
            return answer

    async def _probe_all(self) -> Readiness:
        names = list(self._checks)
        results = await asyncio.gather(
            *(self._probe(f"check_{name}", self._checks[name]) for name in names)
        )
        checks = dict(zip(names, results, strict=True))
        ready = all(check.ok for check in checks.values())
        return Readiness(status="ready" if ready else "unavailable", checks=checks)

    async def _probe(self, name: str, check: Callable[[], None]) -> Check:
        started = time.perf_counter()
        try:
            await self._pool.run_within(self._deadline, name, check)
        except ApiError as exc:
            # The probe's answer is this failure; it is reported in the body, and logged.
            logger.warning("readiness: %s failed: %s", name, exc.message)
            return Check(ok=False, seconds=time.perf_counter() - started, error=exc.code)
        except Exception:
            logger.exception("readiness: %s failed unexpectedly", name)
            return Check(ok=False, seconds=time.perf_counter() - started, error="internal_error")
        return Check(ok=True, seconds=time.perf_counter() - started)

    def metrics_text(self) -> bytes:
        """The app's metrics in Prometheus' text format."""
        return generate_latest(self._registry)
