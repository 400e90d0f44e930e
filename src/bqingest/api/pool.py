"""Blocking warehouse calls off the event loop: a bounded thread pool, a bounded queue, a deadline.

The BigQuery client blocks, so each call runs in one of ``api_threads`` threads. At most
``api_queue_size`` more calls may wait for a thread; past that the request is shed at once with
503 (:class:`~bqingest.api.errors.Overloaded`) instead of growing a queue nobody will wait for.
Each call has a deadline (``api_query_timeout_seconds``): past it the request gets 503
(:class:`~bqingest.api.errors.UpstreamTimeout`). A call still queued is cancelled; one already
running keeps its thread (and its place in the bound) until the client's own timeout ends it, so
the bound always counts every thread really in use.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bqingest.api.errors import ApiError, Overloaded, UpstreamTimeout, translate_google_error
from bqingest.api.metrics import ApiMetrics

P = ParamSpec("P")
T = TypeVar("T")


class WarehousePool:
    """Runs blocking calls in threads with a bound on threads plus waiting calls."""

    def __init__(
        self, *, threads: int, queue_size: int, deadline: float, metrics: ApiMetrics
    ) -> None:
        self.capacity = threads + queue_size
        self.deadline = deadline
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="warehouse")
        self._metrics = metrics
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Calls running or waiting for a thread."""
        return self._pending

    async def run(
        self,
        query: str,
        function: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``function(*args, **kwargs)`` in a thread; ``query`` names it in metrics and errors."""
        return await self.run_within(self.deadline, query, function, *args, **kwargs)

    async def run_within(
        self,
        deadline: float,
        query: str,
        function: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """:meth:`run` with another deadline (seconds)."""
        with self._lock:
            if self._pending >= self.capacity:
                self._metrics.shed.inc()
                raise Overloaded("too many requests are waiting for the warehouse; retry shortly")
            self._pending += 1
            self._metrics.warehouse_pending.set(self._pending)
        try:
            call = functools.partial(function, *args, **kwargs)
            future = self._executor.submit(contextvars.copy_context().run, self._call, query, call)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        try:
            async with asyncio.timeout(deadline):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()  # only succeeds while it still waits for a thread
            self._metrics.warehouse_errors.labels(query, UpstreamTimeout.code).inc()
            raise UpstreamTimeout(f"{query}: no answer within {deadline:g}s") from None

    def _call(self, query: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return call()
        except Exception as exc:
            translated = translate_google_error(exc, what=query)
            code = translated.code if isinstance(translated, ApiError) else "error"
            self._metrics.warehouse_errors.labels(query, code).inc()
            if translated is exc:
                raise
            raise translated from exc
        finally:
            self._metrics.warehouse_query_duration.labels(query).observe(
                time.perf_counter() - started
            )

    def _release(self, _future: object = None) -> None:
        with self._lock:
            self._pending -= 1
            self._metrics.warehouse_pending.set(self._pending)

    def shutdown(self) -> None:
        """Stop taking calls; cancel the queued ones, let running ones end."""
        self._executor.shutdown(wait=False, cancel_futures=True)
