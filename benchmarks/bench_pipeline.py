"""Local end to end: sustained events/s of our pipeline against a read-only pipeline.

Same runner (BundleBasedDirectRunner), same emulators, same messages, same run: N valid events
are published once to the topic, which has one subscription per pipeline, so each pipeline
starts with the same backlog. Rates are measured between 10 % and 90 % of N (start-up excluded).
N is 20,000: the pipeline writes in batches (up to half a second of rows each), and progress is
seen batch by batch, so the measured stretch must span many batches (with 4,000 events it
spanned about seven, and one batch more or less at either end moved the rate by a quarter).

* read-only: ``ReadFromPubSub -> count`` (the baseline);
* ours, no-op sink: our pipeline with the Storage Write API replaced by a counter, to show what
  the runner's extra steps cost;
* ours: the real pipeline, rows counted in the warehouse.

Target: ours / read-only >= 0.85.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.localstack import VARIANTS, count_events, local_stack, our_pipeline, wait_for
from bqingest import clients
from bqingest.config import LocalSettings
from bqingest.source.generator import EventGenerator
from bqingest.source.publisher import BATCH_SETTINGS

EVENTS = 20_000
LOW, HIGH = 0.1, 0.9


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


def _child(mode: str, settings_json: str, subscription: str, total: int, out: str) -> None:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    settings = LocalSettings.model_validate_json(settings_json)
    os.environ["PUBSUB_EMULATOR_HOST"] = str(settings.pubsub_emulator_host)
    marks = _Marks(total, Path(out))
    options = PipelineOptions(["--runner=BundleBasedDirectRunner", "--streaming"])
    pipeline = beam.Pipeline(options=options)
    if mode == "readonly":

        class Count(beam.DoFn):  # type: ignore[misc]
            def process(self, element: Any) -> None:
                marks.add(1)

        _ = (
            pipeline
            | beam.io.ReadFromPubSub(subscription=subscription, with_attributes=True)
            | beam.ParDo(Count())
        )
    else:
        from bqingest.pipeline import main, sink
        from bqingest.pipeline.command import pipeline_argv
        from bqingest.pipeline.options import config_from

        class NoopAppender:
            def append(self, table_id: str, descriptor: Any, rows: Any) -> sink.AppendResult:
                marks.add(len(rows))
                return sink.AppendResult()

            def close(self) -> None:
                pass

        sink.StorageWriteApi.__call__ = lambda self: NoopAppender()  # type: ignore[method-assign]
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


def _run_ours(settings: LocalSettings) -> float:
    bq = clients.bigquery_client(settings.endpoints)
    times: dict[float, float] = {}
    with tempfile.TemporaryDirectory() as tmp, our_pipeline(settings, Path(tmp) / "pipeline.log"):
        deadline = time.monotonic() + 900
        while len(times) < 2 and time.monotonic() < deadline:
            n = count_events(bq, settings)
            for mark in (LOW, HIGH):
                if mark not in times and n >= mark * EVENTS:
                    times[mark] = time.monotonic()
            time.sleep(0.25)
    if len(times) < 2:
        raise TimeoutError("benchmark: our pipeline did not write the events in 15 minutes")
    return (HIGH - LOW) * EVENTS / (times[HIGH] - times[LOW])


def _measure(time_travel: bool) -> tuple[float, float, float]:
    with local_stack(time_travel=time_travel) as settings:
        subscriber = clients.subscriber_client(settings.endpoints)
        paths = {}
        for mode in ("readonly", "noop"):
            paths[mode] = f"projects/{settings.project}/subscriptions/bench-{mode}"
            subscriber.create_subscription(
                request={"name": paths[mode], "topic": settings.topic_path}
            )
        publisher = clients.publisher_client(settings.endpoints, batch_settings=BATCH_SETTINGS)
        futures = [
            publisher.publish(settings.topic_path, m.data, **m.attributes)
            for m in EventGenerator(seed=42).batch(EVENTS)
        ]
        for future in futures:
            future.result(timeout=60)
        readonly = _run_child("readonly", settings, paths["readonly"])
        noop = _run_child("noop", settings, paths["noop"])
        ours = _run_ours(settings)
    return readonly, noop, ours


def main() -> None:
    print(f"{EVENTS} events already published; rate between {LOW:.0%} and {HIGH:.0%} of them")
    for label, time_travel in VARIANTS:
        readonly, noop, ours = _measure(time_travel)
        print(f"{label}:")
        print(f"  read-only (Read -> count) {readonly:8.0f} events/s")
        print(f"  ours, no-op sink          {noop:8.0f} events/s  ratio {noop / readonly:.2f}")
        print(f"  ours, writing to BigQuery {ours:8.0f} events/s  ratio {ours / readonly:.2f}")
        print(f"  ours / read-only = {ours / readonly:.2f} (target >= 0.85)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        main()
