"""Every warehouse call ends by its deadline, even through a BigQuery brownout.

The client's defaults retry a query for 10 minutes (and a job for 40): an API thread would stay
busy long after its request's 503. A local HTTP server that answers every call with 503 stands
in for BigQuery; the real client and our query runner talk to it.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from google.api_core import exceptions

from bqingest import clients
from bqingest.config import Endpoints
from bqingest.warehouse.events import EventStore, QueryBounds
from bqingest.warehouse.query import query


class Brownout(http.server.BaseHTTPRequestHandler):
    calls = 0

    def _unavailable(self) -> None:
        type(self).calls += 1
        body = (
            b'{"error": {"code": 503, "message": "backend unavailable", "status": "UNAVAILABLE"}}'
        )
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _unavailable  # noqa: N815 - the names http.server calls

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def brownout() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Brownout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Brownout.calls = 0
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_query_gives_up_at_its_deadline(brownout: str) -> None:
    client = clients.bigquery_client(Endpoints(project="bqingest-test", bigquery_emulator=brownout))
    started = time.monotonic()
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable, TimeoutError)):
        query(client, "SELECT 1", timeout=2.0)
    elapsed = time.monotonic() - started
    assert elapsed < 8, f"the call went on for {elapsed:.1f}s past a 2s deadline"
    assert Brownout.calls >= 2  # it did retry, within the deadline


def test_the_readiness_check_gives_up_at_its_deadline(brownout: str) -> None:
    endpoints = Endpoints(project="bqingest-test", bigquery_emulator=brownout)
    store = EventStore(
        lambda: clients.bigquery_client(endpoints),
        table_id="bqingest-test.d.events",
        bounds=QueryBounds(timeout=2.0, maximum_bytes_billed=10**9, check_timeout=1.0),
    )
    started = time.monotonic()
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable, TimeoutError)):
        store.check()
    assert time.monotonic() - started < 6
    started = time.monotonic()
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable, TimeoutError)):
        store.get_events("x", source=None, limit=2)
    assert time.monotonic() - started < 8
    store.close()
