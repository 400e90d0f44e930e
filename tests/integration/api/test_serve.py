"""`bqingest api` serves an ingested event over HTTP, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from functools import partial

from google.cloud import bigquery

from bqingest.config import LocalSettings
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import http_ok
from tests.integration.api.conftest import delivery, event, seed
from tests.support import free_port


def test_bqingest_api_serves_an_ingested_event(
    bootstrapped: LocalSettings, bq: bigquery.Client, tmp_path
) -> None:
    seed(bq, bootstrapped, [delivery(event("served-1"))])
    port = free_port()
    env = {
        **os.environ,
        "BQINGEST_PROJECT": bootstrapped.project,
        "BQINGEST_DATASET": bootstrapped.dataset,
        "BQINGEST_TOPIC": bootstrapped.topic,
        "BQINGEST_BIGQUERY_EMULATOR_HOST": str(bootstrapped.bigquery_emulator_host),
        "BQINGEST_PUBSUB_EMULATOR_HOST": str(bootstrapped.pubsub_emulator_host),
        "BQINGEST_API_PORT": str(port),
    }
    server = ManagedProcess(
        "API", [sys.executable, "-m", "bqingest", "api"], log_path=tmp_path / "api.log", env=env
    )
    server.start()
    try:
        server.wait_ready(partial(http_ok, f"http://127.0.0.1:{port}/healthz"), timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/served-1", timeout=10) as r:
            body = json.load(r)
            assert r.headers["x-request-id"]
        assert body["event"]["id"] == "served-1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=10) as r:
            assert b"swagger" in r.read().lower()
    finally:
        server.stop(grace=10)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert server.returncode() == -signal.SIGTERM
    log = [json.loads(line) for line in server.log_path.read_text().splitlines() if line]
    assert any(line.get("message") == "Application shutdown complete." for line in log)
    assert any(line.get("message") == "GET /api/v1/served-1 200" for line in log)
    assert all("severity" in line for line in log)  # every line is Cloud Logging JSON
