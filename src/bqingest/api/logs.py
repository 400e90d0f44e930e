"""JSON log lines in Cloud Logging's structured format, tied to the request and its trace.

On Cloud Run a JSON line on stdout becomes a log entry; Google's ``StructuredLogHandler``
(google-cloud-logging) writes them: ``severity``, ``message``, ``httpRequest``, the source
location, and ``logging.googleapis.com/trace`` linking the line to the request's trace, so every
line of one request shows together in the console. :class:`RequestContextFilter` hands the
handler what it cannot find by itself in an ASGI app: the trace (from ``X-Cloud-Trace-Context``,
or W3C ``traceparent``) and the request id of the request being served. Locally the same lines go
to the terminal or the log file.

The access log is the exception: one line per request, so its cost is per request. Through
``logging`` and the handler it cost about 37 us of CPU per request (a LogRecord, the caller's
frame looked up, four ``json.dumps``, the handler's probe for a Flask or Django request), more
than half of what serving a cached event costs. :class:`AccessLog` writes the object the handler
would write for that record, with the same keys and values, encoded once with msgspec, through the
same handler's lock and stream (and only when the access logger is enabled for INFO, as before).
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from google.cloud.logging_v2.handlers import StructuredLogHandler

from bqingest.config import ApiSettings

_CLOUD_TRACE: Final = re.compile(r"([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?")
_TRACEPARENT: Final = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What every log line of one request carries."""

    request_id: str
    trace_id: str | None = None
    span_id: str | None = None
    sampled: bool | None = None


current_request: ContextVar[RequestContext | None] = ContextVar("bqingest_request", default=None)


def parse_trace(
    cloud_trace_context: str | None, traceparent: str | None
) -> tuple[str | None, str | None, bool | None]:
    """(trace id, span id as 16 hex digits, sampled) from the request's trace headers."""
    if cloud_trace_context:
        match = _CLOUD_TRACE.fullmatch(cloud_trace_context.strip())
        if match:
            trace, span, flag = match.groups()
            span_hex = f"{int(span):016x}" if span and int(span) < 2**64 else None
            return trace.lower(), span_hex, (flag == "1") if flag else None
    if traceparent:
        match = _TRACEPARENT.fullmatch(traceparent.strip())
        if match:
            trace, span, flags = match.groups()
            return trace, span, bool(int(flags, 16) & 1)
    return None, None, None


class RequestContextFilter(logging.Filter):
    """Adds the current request's id and trace to each record, as the handler reads them."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request.get()
        if context is not None:
            record.json_fields = {"request_id": context.request_id}
            if context.trace_id:
                record.trace = f"projects/{self.project}/traces/{context.trace_id}"
                if context.span_id:
                    record.span_id = context.span_id
                if context.sampled is not None:
                    record.trace_sampled = context.sampled
        return True


class _StdoutHandler(StructuredLogHandler):
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)  # type: ignore[no-untyped-call]

    def write_line(self, line: str) -> None:
        """One already formatted line, written as ``emit`` writes one (same lock, same stream)."""
        self.acquire()
        try:
            self.stream = sys.stdout
            self.stream.write(line + self.terminator)
            self.flush()
        finally:
            self.release()


ACCESS_LOGGER: Final = "bqingest.api.access"
access_logger = logging.getLogger(ACCESS_LOGGER)
_encode: Final = msgspec.json.Encoder().encode


class AccessLog:
    """Writes the access log: for each request, the line StructuredLogHandler writes for
    ``access_logger.info(message, extra={"http_request": ...})`` in that request (the same keys
    and values), built directly and written through the handler's lock and stream."""

    def __init__(self, handler: _StdoutHandler, project: str) -> None:
        self._handler = handler
        self._project = project

    def write(
        self, http_request: dict[str, Any], *, message: str, context: RequestContext | None
    ) -> None:
        """One request's line, when the access logger is enabled for INFO (as logging would)."""
        if not access_logger.isEnabledFor(logging.INFO):
            return
        trace = span = ""
        sampled = False
        line: dict[str, Any] = {}
        if context is not None:
            line["request_id"] = context.request_id
            if context.trace_id:
                trace = f"projects/{self._project}/traces/{context.trace_id}"
                span = context.span_id or ""
                sampled = bool(context.sampled)
        line["message"] = message
        line["severity"] = "INFO"
        line["logging.googleapis.com/labels"] = _ACCESS_LABELS
        line["logging.googleapis.com/trace"] = trace
        line["logging.googleapis.com/spanId"] = span
        line["logging.googleapis.com/trace_sampled"] = sampled
        line["logging.googleapis.com/sourceLocation"] = _ACCESS_SOURCE
        line["httpRequest"] = http_request
        self._handler.write_line(_encode(line).decode())


_ACCESS_LABELS: Final = {"python_logger": ACCESS_LOGGER}
_ACCESS_SOURCE: Final = {
    "line": AccessLog.write.__code__.co_firstlineno,
    "file": AccessLog.write.__code__.co_filename,
    "function": AccessLog.write.__name__,
}


def configure_logging(settings: ApiSettings) -> AccessLog:
    """Send every log line (ours, uvicorn's, the clients') to stdout as JSON. Idempotent.

    Returns the access log, which writes through the same handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(handler)
    handler = _StdoutHandler(  # type: ignore[no-untyped-call]
        project_id=settings.project, stream=sys.stdout
    )
    # Before the handler's own filter, which reads these attributes.
    handler.filters.insert(0, RequestContextFilter(settings.project))
    root.addHandler(handler)
    root.setLevel(settings.api_log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Requests are logged by bqingest.api.middleware with their httpRequest; not twice.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return AccessLog(handler, settings.project)
