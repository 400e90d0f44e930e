"""The option contract: runners, required values, patterns, and what `bqingest pipeline` builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from bqingest.pipeline.command import pipeline_argv
from bqingest.pipeline.errors import OptionsError
from bqingest.pipeline.options import config_from
from tests.conftest import local_settings

REQUIRED = [
    "--subscription=projects/my-proj/subscriptions/events-pipeline",
    "--events_table=my-proj.bqingest.events",
    "--dead_letter_table=my-proj.bqingest.dead_letters",
]


def config(*argv: str):
    return config_from(PipelineOptions(list(argv)))


@pytest.mark.parametrize(
    "runner",
    [None, "DirectRunner", "FnApiRunner", "PrismRunner", "SwitchingDirectRunner"],
)
def test_only_the_local_runner_and_dataflow_are_accepted(runner: str | None) -> None:
    argv = [*REQUIRED] + ([f"--runner={runner}"] if runner else [])
    with pytest.raises(OptionsError, match="BundleBasedDirectRunner"):
        config(*argv)


def test_a_local_config() -> None:
    c = config(
        "--runner=BundleBasedDirectRunner",
        *REQUIRED,
        "--pubsub_emulator_host=127.0.0.1:18085",
        "--bigquery_emulator_host=127.0.0.1:18050",
        "--bigquery_emulator_grpc_host=127.0.0.1:18060",
        "--max_message_bytes=2048",
        "--recovery_margin_seconds=30",
    )
    assert c.is_local and c.uses_emulators
    assert (c.project, c.max_message_bytes, c.recovery_margin_seconds) == ("my-proj", 2048, 30.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (REQUIRED[1:], "--subscription is required"),
        (["--subscription=events-pipeline", *REQUIRED[1:]], "projects/PROJECT/subscriptions"),
        ([REQUIRED[0], "--events_table=bqingest.events", REQUIRED[2]], "PROJECT.DATASET.TABLE"),
        ([*REQUIRED, "--max_message_bytes=100"], "between 1024"),
        ([*REQUIRED, "--pubsub_emulator_host=http://x:1"], "host:port"),
        ([*REQUIRED, "--bigquery_emulator_host=127.0.0.1:1"], "go together"),
        ([*REQUIRED, "--recovery_margin_seconds=-1"], "negative"),
    ],
)
def test_bad_options_are_refused_with_the_reason(argv: list[str], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        config("--runner=BundleBasedDirectRunner", *argv)


def test_dataflow_refuses_emulator_endpoints() -> None:
    with pytest.raises(OptionsError, match="Dataflow workers cannot reach"):
        config("--runner=DataflowRunner", *REQUIRED, "--pubsub_emulator_host=127.0.0.1:1")
    assert not config("--runner=DataflowRunner", *REQUIRED).is_local


def test_bqingest_pipeline_builds_the_options_from_settings(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, pubsub_emulator_host="127.0.0.1:18085")
    argv = pipeline_argv(settings, runner="BundleBasedDirectRunner", extra=["--foo=bar"])
    c = config(*argv)
    assert c.subscription == settings.subscription_path
    assert (c.events_table, c.dead_letter_table) == (
        settings.events_table_id,
        settings.dead_letter_table_id,
    )
    assert c.pubsub_emulator_host == "127.0.0.1:18085"
    assert argv[-1] == "--foo=bar"
    dataflow = pipeline_argv(settings, runner="DataflowRunner")
    assert not any("emulator" in arg for arg in dataflow)


def test_metrics_port_is_for_the_local_runner_only(tmp_path: Path) -> None:
    local = config("--runner=BundleBasedDirectRunner", *REQUIRED, "--metrics_port=19465")
    assert (local.metrics_host, local.metrics_port) == ("127.0.0.1", 19465)
    assert config("--runner=BundleBasedDirectRunner", *REQUIRED).metrics_port == 0
    with pytest.raises(OptionsError, match="no worker should open a port"):
        config("--runner=DataflowRunner", *REQUIRED, "--metrics_port=19465")
    with pytest.raises(OptionsError, match="must be a TCP port"):
        config("--runner=BundleBasedDirectRunner", *REQUIRED, "--metrics_port=70000")
    settings = local_settings(tmp_path, pipeline_metrics_port=19465, metrics_host="0.0.0.0")
    argv = pipeline_argv(settings, runner="BundleBasedDirectRunner")
    assert config(*argv).metrics_port == 19465 and config(*argv).metrics_host == "0.0.0.0"
    assert not any("metrics" in arg for arg in pipeline_argv(settings, runner="DataflowRunner"))
    unset = pipeline_argv(local_settings(tmp_path), runner="BundleBasedDirectRunner")
    # Alone, the pipeline serves nothing (the data directory's path may well say "metrics").
    assert not any(arg.startswith("--metrics") for arg in unset)
    payloads = next(arg for arg in unset if arg.startswith("--dead_letter_payloads="))
    assert payloads.endswith("/data/dead-letter-payloads")
    assert config(*unset).dead_letter_payloads == payloads.split("=", 1)[1]
