"""Run the Flex Template's entry point as the launcher would, up to the job's submission.

Run with the pipeline image's Python environment (tests/static/pipeline_environment.py) and
src/ on the path:

    python flex_template_launch.py ENTRY_POINT [ARGS...]     # prints one JSON report

ENTRY_POINT runs as ``__main__`` with ARGS as its command line, exactly as the launcher runs
FLEX_TEMPLATE_PYTHON_PY_FILE. ``Pipeline.run`` is replaced: the pipeline is built and turned into
its portable proto (every DoFn pickled, as submission does), then nothing is submitted. The
report says what would have been submitted: runner, streaming, the transforms, the options
Dataflow reads, and any argument no pipeline option accepts.
"""

from __future__ import annotations

import json
import logging
import runpy
import sys
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DebugOptions,
    GoogleCloudOptions,
    PipelineOptions,
    StandardOptions,
    WorkerOptions,
)

captured: dict[str, Any] = {}


class NotSubmitted:
    """What Pipeline.run returns here: a result that never waits."""

    def wait_until_finish(self, duration: Any = None) -> str:
        return "NOT_SUBMITTED"


def fake_run(self: beam.Pipeline, test_runner_api: Any = "AUTO") -> NotSubmitted:
    proto = self.to_runner_api()
    captured["pipeline"] = self
    captured["proto"] = proto
    return NotSubmitted()


def unknown_arguments(args: list[str]) -> list[str]:
    """Arguments that no pipeline option (Beam's or bqingest's) declares."""
    options = PipelineOptions(args)
    known = set(options.get_all_options(retain_unknown_options=False))
    everything = set(options.get_all_options(retain_unknown_options=True))
    return sorted(everything - known)


def no_bucket_lookup(self: GoogleCloudOptions, arg_name: str) -> None:
    """Option validation asks Cloud Storage whether the staging and temp buckets have soft
    delete on, only to log a warning; offline, finding credentials for that retries for minutes.
    It is the one network call before submission, and it changes nothing: skipped here."""


def main(argv: list[str]) -> int:
    entry_point, *args = argv
    beam.Pipeline.run = fake_run  # type: ignore[method-assign]
    GoogleCloudOptions._warn_if_soft_delete_policy_enabled = no_bucket_lookup  # type: ignore[method-assign]
    sys.argv = [entry_point, *args]
    runpy.run_path(entry_point, run_name="__main__")
    pipeline = captured["pipeline"]
    options = pipeline.options
    top_level = [
        transform.full_label
        for transform in pipeline.transforms_stack[0].parts  # the root's children
    ]
    report = {
        "runner": type(pipeline.runner).__name__,
        "streaming": options.view_as(StandardOptions).streaming,
        "transforms": top_level,
        "proto_transforms": len(captured["proto"].components.transforms),
        "project": options.view_as(GoogleCloudOptions).project,
        "sdk_container_image": options.view_as(WorkerOptions).sdk_container_image,
        "experiments": options.view_as(DebugOptions).experiments or [],
        "unknown_arguments": unknown_arguments(args),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    sys.exit(main(sys.argv[1:]))
