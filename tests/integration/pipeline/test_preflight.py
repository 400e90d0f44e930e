"""A local pipeline that cannot work says why within seconds, instead of retrying for minutes."""

from __future__ import annotations

import subprocess

from bqingest.config import LocalSettings
from bqingest.local.services import bqingest_command
from tests.integration.ingestion import settings_env
from tests.support import free_port


def run_pipeline(settings: LocalSettings) -> subprocess.CompletedProcess[str]:
    # The timeout is the point: without the checks this takes about 3.5 minutes.
    return subprocess.run(
        bqingest_command("pipeline"),
        capture_output=True,
        text=True,
        env=settings_env(settings),
        timeout=60,
        check=False,
    )


def test_missing_emulators_are_named(settings: LocalSettings) -> None:
    nowhere = settings.model_copy(
        update={
            "pubsub_emulator_host": f"127.0.0.1:{free_port()}",
            "bigquery_emulator_host": f"127.0.0.1:{free_port()}",
        }
    )
    result = run_pipeline(nowhere)
    assert result.returncode == 1
    assert "the Pub/Sub emulator does not answer" in result.stderr
    assert "the BigQuery emulator (REST) does not answer" in result.stderr
    assert "bqingest up" in result.stderr


def test_missing_subscription_says_to_bootstrap(settings: LocalSettings) -> None:
    result = run_pipeline(settings)  # emulators up, nothing created
    assert result.returncode == 1
    assert f"subscription {settings.subscription_path} does not exist" in result.stderr
    assert "bqingest bootstrap" in result.stderr
