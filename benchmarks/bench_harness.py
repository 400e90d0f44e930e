"""vCPU-seconds per million events with the SDK harness, measured on Beam's portable runner.

Dataflow Runner v2 runs a Python pipeline's steps in Beam's Python SDK harness (bundle
processing, DoFn invocation, coders, metrics containers). ``FnApiRunner``, Beam's portable runner,
runs the same harness code in-process. This benchmark runs, on it, the steps that run in Python on
Dataflow for every Pub/Sub message, as a bounded pipeline on ``MESSAGES`` pre-built messages:

    Impulse -> Emit (yields the pre-built serialized PubsubMessages)
      -> what the pipeline's read runs in Python on Dataflow (``ReadMessages.expand_continued``:
         a lineage pass-through; the Pub/Sub read itself is the runner's)
      -> ParseAndValidate                      (the pipeline's own; decodes each message with
                                                the generated protobuf class)
      -> WriteToWarehouse                      (the pipeline's own WriteRows: batching in state,
         proto encoding, counting) with a RowAppender that drops the rows instead of calling
         BigQuery

and measures the CPU time (user + system, every thread of the process, and any child process)
of each run. In the same run, interleaved over ``ROUNDS`` rounds, medians:

* **source only**: Impulse -> Emit -> a DoFn that drops each message: what producing the
  messages costs here, subtracted from the pipeline (on Dataflow they come from the runner);
* **our code alone**: the pipeline's code without Beam, on the same messages decoded beforehand:
  ParseMessage called directly, and what WriteRows does with each batch of 1,000 rows (its
  WarehouseWriter with the same no-op appender, and the counting); the state that holds a batch
  is Beam's, so it is left out here;
* **Beam's decode**: the pipeline reading with Beam's own ``ReadFromPubSub(with_attributes=True)``
  instead, whose ``expand_continued`` decodes every message into Beam's ``PubsubMessage``
  through proto-plus (``PubsubMessage._from_proto_str``) before the parse: what the pipeline ran
  before it decoded messages itself, the baseline of that change.

Then one more run of the pipeline under cProfile, grouped by what the time is spent on.
FnApiRunner runs its harness in this process here; with ``--direct_running_mode=multi_processing``
(the harness as its own ``sdk_worker_main`` process over gRPC, as on Dataflow) the per-event
difference between the pipeline and the source was the same within a few percent.

What this cannot measure: the Java runner harness on the same worker (Pub/Sub pull and ack,
windowing, the Streaming Engine's shuffle and checkpoints), moving each message over the Fn API
data plane into the Python process, the Storage Write API calls, and per-bundle costs (here one
bundle holds every message; WriteRows writes every 1,000 rows). Target: <= 37 vCPU-s per million
events (Google's Java Pub/Sub-to-BigQuery template on the Storage Write API).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from functools import cache, partial
from typing import Any, Final

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from google.protobuf import descriptor_pb2
from google.pubsub_v1.types import PubsubMessage as PubsubMessageProto

from benchmarks.bench_parse import NOW, messages
from bqingest.pipeline.processing import Destination, RowToWrite
from bqingest.pipeline.sink import BATCH_ROWS, WriteToWarehouse, count_outcome
from bqingest.pipeline.transforms import ParseAndValidate, ParseMessage, ReadMessages, decoded
from bqingest.pipeline.writer import AppendResult, WarehouseWriter

MESSAGES: Final = int(os.environ.get("BENCH_HARNESS_MESSAGES", "200000"))
DISTINCT: Final = 20_000
ROUNDS: Final = 3
TARGET: Final = 37.0
MAX_BYTES: Final = 1024 * 1024
SUBSCRIPTION: Final = "projects/bqingest-bench/subscriptions/events-pipeline"
TABLES: Final = {
    Destination.EVENTS: "bqingest-bench.bench.events",
    Destination.DEAD_LETTERS: "bqingest-bench.bench.dead_letters",
}


@cache
def payloads() -> tuple[bytes, ...]:
    """MESSAGES serialized PubsubMessages (the source's mix, each with its own message id): what
    the runner hands the Python harness for each message read with attributes."""
    base = messages(DISTINCT)
    publish_time = _PROTO().publish_time.__class__()
    publish_time.FromDatetime(NOW)
    out = []
    for n in range(MESSAGES):
        message = base[n % DISTINCT]
        out.append(
            _PROTO(
                data=message.data,
                attributes=message.attributes,
                message_id=f"{n:016d}",
                publish_time=publish_time,
            ).SerializeToString()
        )
    return tuple(out)


_PROTO: Final = PubsubMessageProto.pb()


def emit(_: bytes) -> Iterator[bytes]:
    """The source: every pre-built message (built before the measured run)."""
    yield from payloads()


class Drop(beam.DoFn):
    """The source-only pipeline's consumer: drops each element."""

    def process(self, element: bytes) -> Iterator[Any]:
        return iter(())


class DropRows:
    """A RowAppender that accepts every row and sends nothing anywhere."""

    def append(
        self, table_id: str, descriptor: descriptor_pb2.DescriptorProto, rows: Sequence[bytes]
    ) -> AppendResult:
        return AppendResult()

    def close(self) -> None:
        pass


def drop_rows() -> DropRows:
    return DropRows()


def cpu_seconds() -> float:
    """User + system CPU of this process (all threads) and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


SOURCE: Final = "source"
PIPELINE: Final = "pipeline"
BEAMS_DECODE: Final = "Beam's decode"


def build(pipeline: beam.Pipeline, variant: str) -> None:
    """The pipeline of the module docstring (PIPELINE), its source alone, or the pipeline
    reading with Beam's decode (BEAMS_DECODE)."""
    raw = (
        pipeline
        | "Impulse" >> beam.Impulse()
        | "Emit" >> beam.FlatMap(emit).with_output_types(bytes)
    )
    if variant == SOURCE:
        _ = raw | "Drop" >> beam.ParDo(Drop())
        return
    if variant == BEAMS_DECODE:
        messages = ReadFromPubSub(subscription=SUBSCRIPTION, with_attributes=True).expand_continued(
            raw
        )
    else:
        messages = ReadMessages(subscription=SUBSCRIPTION).expand_continued(raw)
    rows = messages | "ParseAndValidate" >> ParseAndValidate(max_message_bytes=MAX_BYTES)
    _ = rows | "WriteToBigQuery" >> WriteToWarehouse(
        events_table=TABLES[Destination.EVENTS],
        dead_letter_table=TABLES[Destination.DEAD_LETTERS],
        connect=drop_rows,
    )


def run_pipeline(variant: str) -> None:
    pipeline = beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions([]))
    build(pipeline, variant)
    pipeline.run().wait_until_finish()


def run_our_code(serialized: Sequence[bytes]) -> None:
    """The pipeline's code without Beam: what the harness runs, minus the harness (and minus
    the state a batch waits in). ParseMessage decodes each serialized message itself."""
    parse = ParseMessage(max_message_bytes=MAX_BYTES)
    writer = WarehouseWriter(drop_rows(), tables=TABLES)
    parse.start_bundle()
    batch: list[RowToWrite] = []
    for message in serialized:
        for _, row in parse.process(message):
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                count_outcome(writer.write(batch))
                batch = []
    if batch:
        count_outcome(writer.write(batch))
    parse.finish_bundle()


def measured(work: Callable[[], object]) -> float:
    started = cpu_seconds()
    work()
    return cpu_seconds() - started


def per_million(seconds: float) -> float:
    return seconds / MESSAGES * 1e6


# -- what the time goes to (cProfile) ---------------------------------------------------------

_AREAS: Final = (
    ("/bqingest/contract/", "contract: parse, validate, row"),
    ("/bqingest/pipeline/proto_rows", "proto encoding of rows"),
    ("/bqingest/pipeline/metrics", "counting: Beam counters + Prometheus"),
    ("/prometheus_client/", "counting: Beam counters + Prometheus"),
    ("/apache_beam/metrics/", "counting: Beam counters + Prometheus"),
    ("/bqingest/", "our DoFns, records, sink"),
    ("/apache_beam/io/gcp/pubsub", "Beam: PubsubMessage._from_proto_str (proto-plus)"),
    ("/proto/", "Beam: PubsubMessage._from_proto_str (proto-plus)"),
    ("/apache_beam/", "Beam: SDK harness (bundles, DoFn calls, outputs)"),
    ("/benchmarks/", "benchmark source (emit)"),
)


def _area(function: tuple[str, int, str]) -> str | None:
    filename = function[0]
    for marker, area in _AREAS:
        if marker in filename:
            return area
    return None if filename == "~" else "other Python"


def _name(function: tuple[str, int, str]) -> str:
    filename, line, name = function
    for root in ("site-packages/", "/src/", "/benchmarks/"):
        filename = filename.rsplit(root, 1)[-1]
    return name if filename == "~" else f"{filename}:{line} {name}"


def profile_areas(work: Callable[[], None]) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """Share of profiled time per area, and the functions with the most time of their own.

    Built-in functions (``~``) count for the area of whoever called them.
    """
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    total = 0.0
    for function, (_, _, own, _, callers) in stats.items():
        total += own
        area = _area(function)
        if area is not None:
            areas[area] = areas.get(area, 0.0) + own
            continue
        from_callers = sum(entry[2] for entry in callers.values()) or 1.0
        for caller, entry in callers.items():
            caller_area = _area(caller) or "other built-ins"
            areas[caller_area] = areas.get(caller_area, 0.0) + own * entry[2] / from_callers
    shares = {area: seconds / total for area, seconds in areas.items()}
    top = sorted(
        ((own / total, _name(f)) for f, (_, _, own, _, _) in stats.items()),
        reverse=True,
    )[:12]
    return dict(sorted(shares.items(), key=lambda item: -item[1])), top


def main() -> None:
    started = time.monotonic()
    payloads()
    print(
        f"{MESSAGES:,} Pub/Sub messages ({DISTINCT:,} distinct bodies of the source's mix), built "
        f"in {time.monotonic() - started:.1f}s. FnApiRunner (SDK harness in this process), one "
        f"bundle; {ROUNDS} interleaved rounds, CPU time user+sys, medians. Load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    runs: dict[str, Callable[[], None]] = {
        SOURCE: partial(run_pipeline, SOURCE),
        PIPELINE: partial(run_pipeline, PIPELINE),
        "our code": partial(run_our_code, payloads()),
        BEAMS_DECODE: partial(run_pipeline, BEAMS_DECODE),
    }
    run_pipeline(PIPELINE)  # warm up: imports, first pickling, caches
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, work in runs.items():
            seconds[name].append(measured(work))
    source = seconds[SOURCE]

    def net(name: str) -> float:
        """vCPU-s per million of a pipeline, less its source (median of per-round differences)."""
        return per_million(
            statistics.median(v - s for v, s in zip(seconds[name], source, strict=True))
        )

    def line(label: str, value: float, name: str) -> str:
        rounds = ", ".join(f"{per_million(v):.1f}" for v in seconds[name])
        return f"  {label:<50} {value:6.1f}   (rounds, source included: {rounds})"

    harness, ours = net(PIPELINE), per_million(statistics.median(seconds["our code"]))
    print("vCPU-s per million events:")
    print(line("the pipeline on the SDK harness, less its source", harness, PIPELINE))
    print(line("our code alone (the DoFns called without Beam)", ours, "our code"))
    print(line("source alone (subtracted above)", per_million(statistics.median(source)), SOURCE))
    verdict = "met" if harness <= TARGET else "MISSED"
    print(
        f"harness-inclusive: {harness:.1f} vCPU-s per million events (target <= {TARGET:g}: "
        f"{verdict}); the harness and Beam's own steps multiply our code's {ours:.1f} by "
        f"{harness / ours:.2f}"
    )
    from_proto = measured(lambda: [PubsubMessage._from_proto_str(p) for p in payloads()])
    direct = measured(lambda: [decoded(p) for p in payloads()])
    print(
        f"  Beam's PubsubMessage._from_proto_str alone: {per_million(from_proto):.1f}; the same "
        f"bytes decoded by the pipeline (generated protobuf class): {per_million(direct):.1f}"
    )
    before = net(BEAMS_DECODE)
    print(line("the pipeline reading with Beam's decode, less its source", before, BEAMS_DECODE))
    print(f"  ratio, the pipeline to Beam's decode (same rounds): {harness / before:.2f}")
    shares, top = profile_areas(partial(run_pipeline, PIPELINE))
    print("where the pipeline's time goes (cProfile, one run; its overhead inflates small calls):")
    for area, share in shares.items():
        if share >= 0.005:
            print(f"  {share:6.1%}  {area}")
    print("functions with the most time of their own:")
    for share, name in top:
        print(f"  {share:6.1%}  {name}")


if __name__ == "__main__":
    main()
