"""JSON log lines in Cloud Logging's structured format, tied to the request and its trace.

On Cloud Run, a JSON line on stdout becomes a log entry: ``severity`` and ``message`` are read as
such, ``httpRequest`` as the request, and ``logging.googleapis.com/trace`` links the line to the
request's trace (from ``X-Cloud-Trace-Context``, or W3C ``traceparent``), so every line of one
request shows together in the console. Locally the same lines go to the terminal or log file.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pydantic_core

from bqingest.config import Settings

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


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, with Cloud Logging's special fields."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # Error Reporting reads a stack trace at the end of the message.
            message = f"{message}\n{self.formatException(record.exc_info)}"
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        context = current_request.get()
        if context is not None:
            entry["request_id"] = context.request_id
            if context.trace_id:
                entry["logging.googleapis.com/trace"] = (
                    f"projects/{self.project}/traces/{context.trace_id}"
                )
                if context.span_id:
                    entry["logging.googleapis.com/spanId"] = context.span_id
                if context.sampled is not None:
                    entry["logging.googleapis.com/trace_sampled"] = context.sampled
        http_request = getattr(record, "http_request", None)
        if http_request is not None:
            entry["httpRequest"] = http_request
        return pydantic_core.to_json(entry, fallback=str).decode()


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(settings: Settings) -> None:
    """Send every log line (ours, uvicorn's, the clients') to stdout as JSON. Idempotent."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler(sys.stdout)
        root.addHandler(handler)
    handler.setFormatter(CloudLoggingFormatter(settings.project))
    root.setLevel(settings.api_log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Requests are logged by bqingest.api.middleware with their httpRequest; not twice.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
