"""Serving Prometheus metrics over HTTP: what the source and the pipeline's local runner expose.

The API serves its registry at ``/metrics`` through FastAPI; the source and the local pipeline,
which have no web server, serve theirs with :func:`serve`. Depends on nothing of bqingest, so any
part can use it.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from bqingest.errors import BqingestError


class MetricsPortUnavailable(BqingestError):
    """The metrics port is taken or cannot be bound; the message names the setting to change."""


def serve(registry: CollectorRegistry, *, host: str, port: int, variable: str) -> WSGIServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread.

    ``variable`` names the setting of the port, for the error message.
    """
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise MetricsPortUnavailable(
            f"cannot serve metrics on {host}:{port} ({exc.strerror or exc}): set {variable} "
            "to a free port, or to 0 to turn this endpoint off"
        ) from exc
    return server


_ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 - compared against, never bound


def reachable_host(host: str) -> str:
    """Where to reach a server bound to ``host``: the loopback address when ``host`` is the
    wildcard (``0.0.0.0``, ``::`` or empty: "this machine"), else ``host`` itself."""
    return "127.0.0.1" if host in _ANY_ADDRESS else host


def metrics_url(host: str, port: int, path: str = "/metrics") -> str:
    """``http://host:port/path``, bracketing IPv6 hosts; the wildcard becomes the loopback."""
    host = reachable_host(host)
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"
