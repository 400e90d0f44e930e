"""Local end to end: sustained events/s of our pipeline against a read-only pipeline.

Same runner (BundleBasedDirectRunner), same emulators, same messages, same run: N valid events
are published once to the topic, which has one subscription per pipeline, so each pipeline
starts with the same backlog. Rates are measured between 10 % and 90 % of N (start-up excluded).
N is 20,000: the pipeline writes in batches (up to half a second of rows each), and progress is
seen batch by batch, so the measured stretch must span many batches (with 4,000 events it
spanned about seven, and one batch more or less at either end moved the rate by a quarter).
The machine is shared and its load comes and goes: the read-only pipeline and ours run one
after the other for three rounds, each on a subscription of its own, and the figure is the
median of the rounds' ratios (one round with bqemulator's time travel, where every append copies
the table and each round would find a larger one).

* read-only: ``ReadFromPubSub -> count`` (the baseline) on the runner as the pipeline under test
  runs it (``bqingest.pipeline.local_runner.install()``: short idle pulls, DoFn lookups cached;
  the stock runner for a checkout that has no such module, so that older code can be measured
  with this file). Its counting DoFn is a module-level class, as the pipeline's own are;
* read-only, stock runner: the same on the runner without the tuning (one round);
* read-only as measured before: its DoFn class defined inside a function, stock runner (one
  round). The runner pickles every DoFn for every bundle, and such a class is pickled whole
  each time, which slows that baseline down: the figures of earlier runs were measured against
  it;
* ours, no-op sink: our pipeline with the Storage Write API replaced by a counter, to show what
  the runner's extra steps cost (one round);
* ours: the real pipeline, rows counted in the warehouse.

Target: ours / read-only >= 0.85.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
from google.cloud import bigquery

from benchmarks.localstack import VARIANTS, local_stack, our_pipeline, wait_for
from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.source.generator import EventGenerator
from bqingest.source.publisher import BATCH_SETTINGS
from bqingest.warehouse import query as warehouse

EVENTS = 20_000
LOW, HIGH = 0.1, 0.9
ROUNDS = 3


class _Marks:
    """Records the monotonic times at which a running count crosses LOW and HIGH of ``total``."""

    def __init__(self, total: int, out: Path) -> None:
        self.total, self.out, self.count, self.times = total, out, 0, {}
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.count += n
            for mark in (LOW, HIGH):
                if mark not in self.times and self.count >= mark * self.total:
                    self.times[mark] = time.monotonic()
            if len(self.times) == 2 and not self.out.exists():
                self.out.write_text(json.dumps({str(k): v for k, v in self.times.items()}))


_MARKS: _Marks | None = None
"""The child's marks, for :class:`CountElements` (one pipeline per process)."""


class CountElements(beam.DoFn):  # type: ignore[misc]
    """The read-only pipeline's only step (a module-level class: pickled by reference)."""

    def process(self, element: Any) -> None:
        assert _MARKS is not None
        _MARKS.add(1)


def _tune_runner() -> None:
    """The runner as the pipeline under test runs it (nothing to do for older checkouts)."""
    try:
        from bqingest.pipeline import local_runner
    except ImportError:
        return
    local_runner.install()


def _child(mode: str, settings_json: str, subscription: str, total: int, out: str) -> None:
    from apache_beam.options.pipeline_options import PipelineOptions

    # This module runs as __main__ here; its DoFn must be pickled by reference, by this name.
    import benchmarks.bench_pipeline as this

    settings = LocalSettings.model_validate_json(settings_json)
    os.environ["PUBSUB_EMULATOR_HOST"] = str(settings.pubsub_emulator_host)
    if mode in ("readonly", "noop"):
        _tune_runner()
    marks = this._MARKS = _Marks(total, Path(out))
    options = PipelineOptions(["--runner=BundleBasedDirectRunner", "--streaming"])
    pipeline = beam.Pipeline(options=options)
    if mode == "readonly-before":

        class Count(beam.DoFn):  # type: ignore[misc]  # as this benchmark had it before
            def process(self, element: Any) -> None:
                marks.add(1)

        _ = (
            pipeline
            | beam.io.ReadFromPubSub(subscription=subscription, with_attributes=True)
            | beam.ParDo(Count())
        )
    elif mode.startswith("readonly"):
        _ = (
            pipeline
            | beam.io.ReadFromPubSub(subscription=subscription, with_attributes=True)
            | beam.ParDo(this.CountElements())
        )
    else:
        from bqingest.pipeline import main, writer
        from bqingest.pipeline.command import pipeline_argv
        from bqingest.pipeline.options import config_from

        class NoopAppender:
            def append(self, table_id: str, descriptor: Any, rows: Any) -> writer.AppendResult:
                marks.add(len(rows))
                return writer.AppendResult()

            def close(self) -> None:
                pass

        writer.StorageWriteApi.__call__ = lambda self: NoopAppender()  # type: ignore[method-assign]
        argv = pipeline_argv(settings, runner="BundleBasedDirectRunner")
        argv = [a for a in argv if not a.startswith("--subscription=")]
        config = config_from(PipelineOptions([*argv, f"--subscription={subscription}"]))
        main.build(pipeline, config)
    pipeline.run()
    while not Path(out).exists():
        time.sleep(0.1)
    os._exit(0)


def _run_child(mode: str, settings: LocalSettings, subscription: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "marks.json"
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_pipeline", "--child", mode,
             settings.model_dump_json(), subscription, str(EVENTS), str(out)],
        )  # fmt: skip
        try:
            wait_for(out.exists, timeout=600, what=f"{mode} pipeline to read {EVENTS} events")
            marks = json.loads(out.read_text())
        finally:
            child.kill()
            child.wait()
    return (HIGH - LOW) * EVENTS / (marks[str(HIGH)] - marks[str(LOW)])


def _run_ours(settings: LocalSettings, subscription: str) -> float:
    """The real pipeline (``python -m bqingest.pipeline.main``) on ``subscription``.

    Its progress is read from the rows afterwards: ``ingested_at`` is when the pipeline built a
    row, so the 10 % and 90 % rows of this round give the rate without querying the warehouse
    while the pipeline writes (a poll every quarter of a second loads bqemulator, which shares
    the machine's two cores with the pipeline). The wait for the last rows polls once a second.
    """
    bq = clients.bigquery_client(settings.endpoints)
    mine = settings.model_copy(update={"subscription": subscription})
    since = datetime.now(UTC)
    window = [bigquery.ScalarQueryParameter("since", "TIMESTAMP", since)]
    table = settings.events_table_id

    def written() -> int:
        sql = f"SELECT COUNT(*) AS n FROM `{table}` WHERE ingested_at >= @since"
        [row] = warehouse.query_all(bq, sql, parameters=window)
        return int(row["n"])

    with tempfile.TemporaryDirectory() as tmp, our_pipeline(mine, Path(tmp) / "pipeline.log"):
        deadline = time.monotonic() + 900
        while written() < EVENTS:
            if time.monotonic() > deadline:
                raise TimeoutError("benchmark: our pipeline did not write the events in 15 min")
            time.sleep(1.0)
    rows = warehouse.query_all(
        bq,
        f"SELECT ingested_at FROM `{table}` WHERE ingested_at >= @since ORDER BY ingested_at",
        parameters=window,
    )
    times = [row["ingested_at"] for row in rows]
    low, high = times[int(LOW * EVENTS)], times[int(HIGH * EVENTS)]
    return (HIGH - LOW) * EVENTS / (high - low).total_seconds()


@dataclass
class Rates:
    """events/s of each pipeline, one entry per round."""

    readonly: list[float] = field(default_factory=list)
    ours: list[float] = field(default_factory=list)
    stock: float = 0.0
    before: float = 0.0
    noop: float = 0.0

    def ratios(self) -> list[float]:
        """ours / read-only of each round (measured one after the other)."""
        return [o / r for o, r in zip(self.ours, self.readonly, strict=True)]


def _measure(time_travel: bool) -> Rates:
    # With time travel every append copies the table, so each round of ours is slower than the
    # one before (the table grows by N rows a round): one round is all that variant can give.
    rounds = 1 if time_travel else ROUNDS
    with local_stack(time_travel=time_travel) as settings:
        subscriber = clients.subscriber_client(settings.endpoints)
        names = [f"readonly-{n}" for n in range(rounds)] + [f"ours-{n}" for n in range(rounds)]
        paths = {
            name: f"projects/{settings.project}/subscriptions/bench-{name}"
            for name in [*names, "readonly-stock", "readonly-before", "noop"]
        }
        for name, path in paths.items():
            # Our pipeline refuses a subscription without retained messages (its recovery).
            wanted = {"name": path, "topic": settings.topic_path}
            subscriber.create_subscription(
                request={**wanted, "retain_acked_messages": name.startswith("ours-")}
            )
        publisher = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
        futures = [
            publisher.publish(settings.topic_path, m.data, **m.attributes)
            for m in EventGenerator(seed=42).batch(EVENTS)
        ]
        for future in futures:
            future.result(timeout=60)
        rates = Rates()
        for n in range(rounds):
            rates.readonly.append(_run_child("readonly", settings, paths[f"readonly-{n}"]))
            rates.ours.append(_run_ours(settings, f"bench-ours-{n}"))
        rates.stock = _run_child("readonly-stock", settings, paths["readonly-stock"])
        rates.before = _run_child("readonly-before", settings, paths["readonly-before"])
        rates.noop = _run_child("noop", settings, paths["noop"])
    return rates


def main() -> None:
    print(
        f"{EVENTS} events already published; rate between {LOW:.0%} and {HIGH:.0%} of them; "
        f"read-only and ours alternate for {ROUNDS} rounds (medians; time travel: one round)"
    )
    for label, time_travel in VARIANTS:
        rates = _measure(time_travel)
        readonly, ours = statistics.median(rates.readonly), statistics.median(rates.ours)
        ratio = statistics.median(rates.ratios())
        print(f"{label}:")
        print(f"  read-only (Read -> count)   {readonly:8.0f} events/s ({_list(rates.readonly)})")
        print(f"  ours, writing to BigQuery   {ours:8.0f} events/s ({_list(rates.ours)})")
        print(f"  ours / read-only, by round  {_list(rates.ratios(), '.2f')}")
        print(
            f"  read-only, stock runner     {rates.stock:8.0f} events/s  "
            f"ratio {rates.stock / readonly:.2f} (one round)"
        )
        print(
            f"  read-only as measured before {rates.before:7.0f} events/s  "
            f"ratio {rates.before / readonly:.2f} (one round)"
        )
        print(
            f"  ours, no-op sink            {rates.noop:8.0f} events/s  "
            f"ratio {rates.noop / readonly:.2f} (one round)"
        )
        print(f"  ours / read-only = {ratio:.2f} (median of the rounds; target >= 0.85)")
        print(
            f"  ours / read-only as measured before = {ours / rates.before:.2f}, "
            f"on the stock runner = {ours / rates.stock:.2f}"
        )


def _list(values: list[float], fmt: str = ".0f") -> str:
    return ", ".join(format(v, fmt) for v in values)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        main()
