"""Per-request bookkeeping as one plain ASGI middleware: request id, trace, metrics, access log.

Pure ASGI rather than ``BaseHTTPMiddleware``, which costs a task and a stream per request. It is
also the last line of defence: an exception no handler mapped becomes the 500 of
:func:`bqingest.api.errors.internal_error_response`, logged here with its stack trace.

It runs on every request, so it does the least it can per request: one pass over the headers,
label children resolved once per (route, method, status), and the access line written by
:class:`~bqingest.api.logs.AccessLog` rather than through ``logging``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Final

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bqingest.api.errors import internal_error_response
from bqingest.api.logs import AccessLog, RequestContext, current_request, parse_trace
from bqingest.api.metrics import ApiMetrics

_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:\-]{1,128}").fullmatch
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NO_TRACE: Final = (None, None, None)

error_logger = logging.getLogger("bqingest.api.errors")


class RequestObservability:
    """Gives every request an id (kept from ``X-Request-ID`` when well-formed), counts it, and
    writes its access line when ``access_log`` is given."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics, access_log: AccessLog | None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        # Label children by (route, method, status): prometheus_client's labels() takes a lock
        # and validates on every call; the set of keys is bounded by routes x methods x statuses.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def _observe(self, route: str, method: str, status: int, elapsed: float) -> None:
        key = (route, method, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.metrics.requests.labels(route, method, str(status)),
                self.metrics.request_duration.labels(route, method),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = cloud_trace = traceparent = user_agent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"x-cloud-trace-context":
                cloud_trace = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")
        if request_id is None or not _REQUEST_ID(request_id):
            request_id = os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        trace_id, span_id, sampled = (
            parse_trace(cloud_trace, traceparent) if cloud_trace or traceparent else _NO_TRACE
        )
        context = RequestContext(request_id, trace_id, span_id, sampled)
        token = current_request.set(context)
        request_id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False
        response_size = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started, response_size
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = message.get("headers")
                message["headers"] = (
                    [*headers, request_id_header] if headers else [request_id_header]
                )
            elif message["type"] == "http.response.body":
                response_size += len(message.get("body", b""))
            await send(message)

        inflight = self.metrics.inflight
        inflight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if response_started:
                error_logger.exception("response aborted after it started")
                raise
            error_logger.exception("unexpected error")
            await internal_error_response(request_id)(scope, receive, send_with_id)
        finally:
            inflight.dec()
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self._observe(route, method if method in _METHODS else "OTHER", status, elapsed)
            if self.access_log is not None:
                self._log(
                    self.access_log, scope, context, status, elapsed, response_size, user_agent
                )
            current_request.reset(token)

    @staticmethod
    def _log(
        access_log: AccessLog,
        scope: Scope,
        context: RequestContext,
        status: int,
        elapsed: float,
        size: int,
        user_agent: str | None,
    ) -> None:
        path = scope["path"]
        query = scope.get("query_string", b"")
        method = scope["method"]
        client = scope.get("client")
        access_log.write(
            {
                "requestMethod": method,
                "requestUrl": f"{path}?{query.decode('latin-1')}" if query else path,
                "status": status,
                "responseSize": str(size),
                "userAgent": user_agent,
                "remoteIp": client[0] if client else None,
                "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                "latency": f"{elapsed:.6f}s",
            },
            message=f"{method} {path} {status}",
            context=context,
        )
