"""``bqingest pipeline``: the pipeline's options, built from the settings."""

from __future__ import annotations

from collections.abc import Sequence

from bqingest.config import PipelineSettings
from bqingest.pipeline.options import LOCAL_RUNNER


def pipeline_argv(
    settings: PipelineSettings, *, runner: str, extra: Sequence[str] = ()
) -> list[str]:
    """The command line of :func:`bqingest.pipeline.main.run` for these settings.

    Emulator endpoints and the metrics port are passed only to the local runner; ``extra``
    (Beam's own options, such as ``--region`` and ``--temp_location`` for Dataflow) is appended
    as given.
    """
    argv = [
        f"--runner={runner}",
        "--streaming",
        f"--project={settings.project}",
        f"--subscription={settings.subscription_path}",
        f"--events_table={settings.events_table_id}",
        f"--dead_letter_table={settings.dead_letter_table_id}",
        f"--max_message_bytes={settings.max_message_bytes}",
        f"--recovery_margin_seconds={settings.recovery_margin_seconds:g}",
        f"--unknown_types={settings.unknown_types}",
    ]
    payloads = settings.dead_letter_payloads
    if payloads is None and runner == LOCAL_RUNNER:
        payloads = str((settings.data_dir / "dead-letter-payloads").resolve())
    if payloads is not None:
        argv.append(f"--dead_letter_payloads={payloads}")
    if runner == LOCAL_RUNNER:
        for option in (
            "pubsub_emulator_host",
            "bigquery_emulator_host",
            "bigquery_emulator_grpc_host",
        ):
            value = getattr(settings, option)
            if value is not None:
                argv.append(f"--{option}={value}")
        if settings.schemas_dir is not None:
            argv.append(f"--schemas_dir={settings.schemas_dir.resolve()}")
        if settings.pipeline_metrics_port:
            argv += [
                f"--metrics_host={settings.metrics_host}",
                f"--metrics_port={settings.pipeline_metrics_port}",
            ]
    return [*argv, *extra]
