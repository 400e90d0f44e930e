"""The read API under load, against a bare FastAPI endpoint and the BigQuery client, in one run.

Starts the local stack on free ports, writes ``EVENTS`` events through the contract, then serves
four processes on 127.0.0.1, each the way ``bqingest api`` serves (see ``bare_app``):

* ``cached``: the API as ``make run`` runs it (by-id cache on, access log on: the local default),
* ``cached-nolog``: the same with the access log off (the default outside local),
* ``uncached``: the API with the cache off (``BQINGEST_API_CACHE_MAX_BYTES=0``): every request
  queries bqemulator,
* ``bare``: a bare FastAPI JSON endpoint (the baseline).

and measures, with wrk cycling over the event ids (every cached server read each id first):

1. cached ``GET /api/v1/{id}`` against the bare endpoint at ``CONNECTIONS`` connections, by
   server CPU per request and by req/s (targets, by CPU: >= 0.8 with the access log off, >= 0.7
   with it on), in ``ROUNDS`` alternating rounds, medians;
2. uncached ``GET /api/v1/{id}``: p50 minus the p50 of the same query made directly with the
   client, one request at a time (target <= 2 ms). Measured two ways: alternating one direct
   query and one HTTP request (keep-alive) for the same id, so both see the same emulator load;
   and with wrk at one connection between two blocks of direct queries;
3. p50/p99 at ``CONNECTIONS`` connections, cached and uncached; errors must be zero.

Server CPU time per request (from /proc) is printed beside each rate: on a shared 2-core machine
where wrk takes one core it is steadier than req/s, so the ratio's verdict uses it.
Needs wrk (``make bench`` installs it). Results: docs/performance.md.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final

from prometheus_client.parser import text_string_to_metric_families
from tests.support import free_port

from bqingest import clients
from bqingest.api.controllers.events import MAX_SOURCES
from bqingest.api.main import event_store
from bqingest.bootstrap import bootstrap
from bqingest.config import LocalSettings
from bqingest.contract import MessageContext, event_row, parse_message
from bqingest.local.processes import ManagedProcess
from bqingest.local.services import http_ok
from bqingest.local.stack import LocalStack

EVENTS: Final = 200
CONNECTIONS: Final = 50
ROUNDS: Final = 5
ROUND_SECONDS: Final = 4
LOADED_SECONDS: Final = 10
WARMUP_SECONDS: Final = 2
PAIRS: Final = 200
DIRECT_BLOCK: Final = 60

_LUA: Final = r"""
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS_FILE")) do ids[#ids + 1] = line end
local i = 0
request = function()
  i = i % #ids + 1
  return wrk.format("GET", "/api/v1/" .. ids[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "seconds": %f, "errors": %d, "non_2xx": %d,'
    .. ' "p50_ms": %f, "p99_ms": %f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float
    cpu_us: float = float("nan")
    """Server CPU time per request, in microseconds."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self, label: str) -> str:
        return (
            f"  {label:<30} {self.rate:7.0f} req/s  cpu {self.cpu_us:6.0f} us/req  "
            f"p50 {self.p50_ms:8.2f} ms  p99 {self.p99_ms:8.2f} ms  "
            f"errors {self.errors}  non-2xx {self.non_2xx}"
        )


class Server:
    """One server process on a free port."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.process = ManagedProcess(
            name,
            [*argv, str(self.port)] if name == "bare" else argv,
            log_path=log_dir / f"{name}.log",
            env={**os.environ, **env, "BQINGEST_API_PORT": str(self.port)},
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, *, connections: int, seconds: int, script: Path, ids: Path) -> WrkResult:
    before = server.cpu_seconds()
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    completed = subprocess.run(
        [*argv, "-s", str(script), server.url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_IDS_FILE": str(ids)},
    )
    cpu = server.cpu_seconds() - before
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    result = WrkResult(**json.loads(line.removeprefix("RESULT ")))
    return WrkResult(**{**result.__dict__, "cpu_us": cpu / max(result.requests, 1) * 1e6})


def seed(settings: LocalSettings) -> list[str]:
    """EVENTS events written the way the pipeline writes them (contract + event_row)."""
    bq = clients.bigquery_client(settings.endpoints)
    start = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    ids: list[str] = []
    rows: list[dict[str, Any]] = []
    for i in range(EVENTS):
        event_id = f"bench-{i:06d}"
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": "//bench.example.com/orders",
            "type": "com.example.order.created",
            "time": (start + timedelta(seconds=i)).isoformat(),
            "datacontenttype": "application/json",
            "data": {"order_id": event_id, "amount": 12.5, "currency": "EUR"},
        }
        context = MessageContext(
            message_id=f"m-{event_id}", publish_time=start + timedelta(seconds=i + 1), attributes={}
        )
        row = event_row(
            parse_message(json.dumps(body).encode(), context),
            context,
            ingested_at=context.publish_time,
        )
        rows.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})
        ids.append(event_id)
    errors = bq.insert_rows_json(settings.events_table_id, rows)
    if errors:
        raise RuntimeError(f"seeding failed: {errors[:3]}")
    bq.close()  # type: ignore[no-untyped-call]
    return ids


class DirectQuery:
    """The API's by-id query (the id alone, as the benchmark asks), made from this process."""

    def __init__(self, settings: LocalSettings) -> None:
        self.store = event_store(settings)

    def __call__(self, event_id: str) -> float:
        started = time.perf_counter()
        found = self.store.get_events(event_id, source=None, limit=MAX_SOURCES + 1)
        elapsed = time.perf_counter() - started
        if len(found) != 1:
            raise RuntimeError(f"{event_id}: {len(found)} events, expected one")
        return elapsed


def paired_uncached(server: Server, direct: DirectQuery, ids: list[str]) -> tuple[float, ...]:
    """(direct p50, API p50, median of per-id differences), in ms, alternating the two.

    Which of the two goes first alternates too, so neither always finds the emulator warm.
    """
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def through_api(event_id: str) -> float:
        started = time.perf_counter()
        connection.request("GET", f"/api/v1/{event_id}")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {event_id}: {response.status}")
        return time.perf_counter() - started

    direct_times, api_times = [], []
    for i in range(PAIRS):
        event_id = ids[i % len(ids)]
        if i % 2:
            api_times.append(through_api(event_id))
            direct_times.append(direct(event_id))
        else:
            direct_times.append(direct(event_id))
            api_times.append(through_api(event_id))
    connection.close()
    differences = [a - d for a, d in zip(api_times, direct_times, strict=True)]
    return tuple(
        statistics.median(values) * 1000 for values in (direct_times, api_times, differences)
    )


def by_id_timings(server: Server) -> dict[str, float]:
    """The server's own totals for by-id requests and their queries, from /metrics."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    values = dict.fromkeys(("request_sum", "request_count", "query_sum", "query_count"), 0.0)
    wanted = {
        ("bqingest_api_request_duration_seconds", "route", "/api/v1/{id}"): "request",
        ("bqingest_api_warehouse_query_duration_seconds", "query", "get_event"): "query",
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            base, _, kind = sample.name.rpartition("_")
            for (name, label, value), prefix in wanted.items():
                if base == name and kind in ("sum", "count") and sample.labels.get(label) == value:
                    values[f"{prefix}_{kind}"] = sample.value
    return values


def server_side_overhead_ms(before: dict[str, float], after: dict[str, float]) -> float:
    """Mean (request duration - query duration) per by-id request between two snapshots."""
    delta = {name: after[name] - before[name] for name in before}
    request = delta["request_sum"] / max(delta["request_count"], 1)
    query = delta["query_sum"] / max(delta["query_count"], 1)
    return (request - query) * 1000


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def measure(settings: LocalSettings, ids: list[str], work: Path) -> None:
    script = work / "ids.lua"
    script.write_text(_LUA)
    ids_file = work / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    env = {
        "BQINGEST_PROJECT": settings.project,
        "BQINGEST_BIGQUERY_EMULATOR_HOST": str(settings.bigquery_emulator_host),
        "BQINGEST_PUBSUB_EMULATOR_HOST": str(settings.pubsub_emulator_host),
    }
    api = [sys.executable, "-m", "bqingest", "api"]
    servers = {
        "bare": Server("bare", [sys.executable, "-m", "benchmarks.bare_app"], {}, work),
        "cached": Server("cached", api, env, work),
        "cached-nolog": Server(
            "cached-nolog", api, {**env, "BQINGEST_API_ACCESS_LOG": "false"}, work
        ),
        "uncached": Server("uncached", api, {**env, "BQINGEST_API_CACHE_MAX_BYTES": "0"}, work),
    }
    try:
        for server in servers.values():
            server.process.start()
            probe = partial(http_ok, f"{server.url}/api/v1/{ids[0]}")
            server.process.wait_ready(probe, timeout=60)
        for name in ("cached", "cached-nolog"):  # every id once: the cache is warm
            for event_id in ids:
                http_ok(f"{servers[name].url}/api/v1/{event_id}")
        run = partial(wrk, script=script, ids=ids_file)
        for server in servers.values():
            # The uncached server queues at 50 connections (bqemulator answers one query at a
            # time): warm it one request at a time.
            connections = 1 if server.name == "uncached" else CONNECTIONS
            run(server, connections=connections, seconds=WARMUP_SECONDS)

        print(
            f"{EVENTS} events; wrk -t1 -c{CONNECTIONS}, {ROUNDS} alternating rounds of "
            f"{ROUND_SECONDS}s, ids cycled; medians. Load average {_load()}",
            flush=True,
        )
        rounds: dict[str, list[WrkResult]] = {"bare": [], "cached": [], "cached-nolog": []}
        for _ in range(ROUNDS):
            for name, results in rounds.items():
                results.append(run(servers[name], connections=CONNECTIONS, seconds=ROUND_SECONDS))
        medians = {name: _median_result(results) for name, results in rounds.items()}
        print(medians["bare"].line("bare FastAPI endpoint"))
        print(medians["cached"].line("cached, access log on"))
        print(medians["cached-nolog"].line("cached, access log off"))
        for name, target in (("cached", 0.7), ("cached-nolog", 0.8)):
            paired = statistics.median(
                c.rate / b.rate for c, b in zip(rounds[name], rounds["bare"], strict=True)
            )
            rates = medians[name].rate / medians["bare"].rate
            cpu = statistics.median(r.cpu_us for r in rounds["bare"]) / statistics.median(
                r.cpu_us for r in rounds[name]
            )
            print(
                f"  {name} / bare: {cpu:.2f} by server CPU per request (target >= {target}: "
                f"{verdict(cpu >= target)}); by req/s {rates:.2f} (medians), {paired:.2f} (median "
                "of per-round ratios)"
            )

        direct = DirectQuery(settings)
        print("uncached GET by id, one request at a time:", flush=True)
        timings_before = by_id_timings(servers["uncached"])
        direct_p50, api_p50, paired = paired_uncached(servers["uncached"], direct, ids)
        print(
            f"  alternating ({PAIRS} pairs): direct p50 {direct_p50:.2f} ms, API p50 "
            f"{api_p50:.2f} ms, added {api_p50 - direct_p50:.2f} ms (median per-id difference "
            f"{paired:.2f} ms; target <= 2: {verdict(api_p50 - direct_p50 <= 2)})"
        )
        before = statistics.median(direct(event_id) for event_id in ids[:DIRECT_BLOCK])
        single = run(servers["uncached"], connections=1, seconds=LOADED_SECONDS)
        after = statistics.median(direct(event_id) for event_id in ids[-DIRECT_BLOCK:])
        direct_ms = (before + after) / 2 * 1000
        print(
            f"  wrk -c1: API p50 {single.p50_ms:.2f} ms; direct p50 {direct_ms:.2f} ms "
            f"(before {before * 1000:.2f}, after {after * 1000:.2f}); added "
            f"{single.p50_ms - direct_ms:.2f} ms"
        )
        overhead = server_side_overhead_ms(timings_before, by_id_timings(servers["uncached"]))
        print(f"  server side (its /metrics): request minus query, mean {overhead:.2f} ms")
        direct.store.close()

        loaded = run(servers["uncached"], connections=CONNECTIONS, seconds=LOADED_SECONDS)
        print(f"at {CONNECTIONS} connections:")
        print(medians["cached"].line("cached (median round)"))
        print(loaded.line(f"uncached ({LOADED_SECONDS}s)"))
        everything = [*rounds["bare"], *rounds["cached"], *rounds["cached-nolog"], single, loaded]
        failed = sum(1 for r in everything if r.errors or r.non_2xx)
        print(f"errors: {'none' if not failed else f'in {failed} runs'}. Load average {_load()}")
    finally:
        for server in servers.values():
            server.process.stop()


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _median_result(results: list[WrkResult]) -> WrkResult:
    ordered = sorted(results, key=lambda r: r.rate)
    return ordered[len(ordered) // 2]


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "bench_api needs wrk: `make bench` installs it with apt-get, or install it yourself "
            "(Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        settings = LocalSettings(
            _env_file=None,
            project="bqingest-bench",
            data_dir=work / "data",
            pubsub_emulator_host=f"127.0.0.1:{free_port()}",
            bigquery_emulator_host=f"127.0.0.1:{free_port()}",
            bigquery_emulator_grpc_host=f"127.0.0.1:{free_port()}",
        )
        with LocalStack(settings):
            bootstrap(
                settings,
                bigquery_client=clients.bigquery_client(settings.endpoints),
                publisher=clients.publisher_client(settings.endpoints),
                subscriber=clients.subscriber_client(settings.endpoints),
            )
            measure(settings, seed(settings), work)
