"""Health use cases: is the process alive, do its dependencies answer, what are its metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from prometheus_client import generate_latest

from bqingest.api.errors import ApiError
from bqingest.api.runtime import ApiRuntime
from bqingest.api.serializers.health import Check, Readiness
from bqingest.api.warehouse import EventPublisher, Warehouse

logger = logging.getLogger("bqingest.api.health")


class HealthController:
    """Probes for one request, over the app's runtime."""

    def __init__(
        self, *, runtime: ApiRuntime, warehouse: Warehouse, publisher: EventPublisher
    ) -> None:
        self._runtime = runtime
        self._warehouse = warehouse
        self._publisher = publisher

    async def readiness(self) -> Readiness:
        """Both dependencies probed at once, each within the readiness deadline."""
        warehouse, pubsub = await asyncio.gather(
            self._probe("check_warehouse", self._warehouse.check),
            self._probe("check_pubsub", self._publisher.check),
        )
        checks = {"warehouse": warehouse, "pubsub": pubsub}
        ready = all(check.ok for check in checks.values())
        return Readiness(status="ready" if ready else "unavailable", checks=checks)

    async def _probe(self, name: str, check: Callable[[], None]) -> Check:
        deadline = self._runtime.settings.api_readiness_timeout_seconds
        started = time.perf_counter()
        try:
            await self._runtime.pool.run_within(deadline, name, check)
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
        return generate_latest(self._runtime.metrics.registry)
