"""The local stack starts, answers, and stops without leaving a process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bqingest.clients import port_is_open
from bqingest.local.stack import LocalStack
from tests.integration.conftest import stack_settings
from tests.support import free_port
from tests.unit.local.test_processes import wait_gone


def test_start_and_stop_leave_no_process(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    stack = LocalStack(settings)
    times = stack.start()
    pids = [p.pid for p in (stack.pubsub.process, stack.bigquery.process) if p and p.pid]
    assert len(pids) == 2
    assert times.pubsub > 0 and times.bigquery > 0
    for host_port in (settings.pubsub_emulator_host, settings.bigquery_emulator_host):
        assert host_port is not None
        assert port_is_open(host_port)
    stack.stop()
    assert all(wait_gone(pid) for pid in pids)
    for host_port in (settings.pubsub_emulator_host, settings.bigquery_emulator_host):
        assert host_port is not None
        assert not port_is_open(host_port)
    stack.stop()  # idempotent


def test_warehouse_survives_a_restart(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    from bqingest import clients

    with LocalStack(settings):
        clients.bigquery_client(settings.endpoints).create_dataset("kept")
    with LocalStack(settings):
        names = [d.dataset_id for d in clients.bigquery_client(settings.endpoints).list_datasets()]
    assert "kept" in names


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_up_runs_until_interrupted_and_stops_cleanly(tmp_path: Path) -> None:
    """`bqingest up` (what `make run` runs) is ready in well under 60 s, shows events flowing from
    the source into the warehouse with live counts, and Ctrl-C stops it all."""
    settings = stack_settings(tmp_path)
    env = {
        **os.environ,
        "BQINGEST_PROJECT": settings.project,
        "BQINGEST_DATA_DIR": str(settings.data_dir),
        "BQINGEST_PUBSUB_EMULATOR_HOST": str(settings.pubsub_emulator_host),
        "BQINGEST_BIGQUERY_EMULATOR_HOST": str(settings.bigquery_emulator_host),
        "BQINGEST_BIGQUERY_EMULATOR_GRPC_HOST": str(settings.bigquery_emulator_grpc_host),
        "BQINGEST_API_PORT": str(free_port()),
        # Never the default ports: a developer's `make run` may hold them.
        "BQINGEST_SOURCE_METRICS_PORT": str(free_port()),
        "BQINGEST_PIPELINE_METRICS_PORT": str(free_port()),
        "COLUMNS": "200",
    }
    started = time.monotonic()
    up = subprocess.Popen(
        [sys.executable, "-m", "bqingest", "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert up.stdout is not None
    lines: list[str] = []
    try:
        for line in up.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        ready_after = time.monotonic() - started
        assert "Press Ctrl-C to stop" in "".join(lines), "".join(lines)
        assert ready_after < 60
        output = "".join(lines)
        assert "bootstrap: 10 created" in output  # 6 + a typed view per demo type
        assert f"export BQINGEST_PUBSUB_EMULATOR_HOST={settings.pubsub_emulator_host}" in output
        assert "API running" in output
        children = _children_of(up.pid)
        assert len(children) == 5  # two emulators, the pipeline, the source, the API
        # Live counts: the source's first batch goes out at start and reaches the warehouse.
        deadline = time.monotonic() + 180
        for line in up.stdout:
            lines.append(line)
            match = re.search(r"published (\d+) .*\| events: (\d+) ids", line)
            if (match and int(match.group(2)) > 0) or time.monotonic() > deadline:
                break
        counts = [line for line in lines if line.startswith("published ")]
        assert counts, "".join(lines)
        published, ingested = re.search(
            r"published (\d+) .*\| events: (\d+) ids", counts[-1]
        ).groups()
        assert int(published) > 0 and int(ingested) > 0, "".join(lines[-20:])
        # Another shell with the same settings watches it: every process answers its /metrics.
        for variable in ("BQINGEST_SOURCE_METRICS_PORT", "BQINGEST_PIPELINE_METRICS_PORT"):
            assert f"http://127.0.0.1:{env[variable]}/metrics (Prometheus)" in output
        status = subprocess.run(
            [sys.executable, "-m", "bqingest", "status", "--once", "--interval", "1"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "every process answers" in status.stdout, status.stdout + status.stderr
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0
    assert "no process left running" in rest
    assert all(wait_gone(pid) for pid in children)
