"""A missing Java or Pub/Sub emulator is one clear error that says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bqingest.local import pubsub_emulator
from bqingest.local.errors import PrerequisiteMissing


def test_missing_java(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PrerequisiteMissing, match=r"Java not found.*openjdk"):
        pubsub_emulator.find_java()


def test_jar_override_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(PrerequisiteMissing, match="gcloud components install pubsub-emulator"):
        pubsub_emulator.find_jar(tmp_path / "missing.jar")


def test_jar_override_that_exists(tmp_path: Path) -> None:
    jar = tmp_path / "cloud-pubsub-emulator-1.0-all.jar"
    jar.write_bytes(b"PK")
    assert pubsub_emulator.find_jar(jar) == jar


def test_jar_found_under_an_sdk_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "sdk" / "platform" / "pubsub-emulator" / "lib"
    lib.mkdir(parents=True)
    (lib / "cloud-pubsub-emulator-0.8.1-all.jar").write_bytes(b"PK")
    newest = lib / "cloud-pubsub-emulator-0.8.9-all.jar"
    newest.write_bytes(b"PK")
    monkeypatch.setattr(pubsub_emulator, "_sdk_root_from_gcloud", lambda: tmp_path / "sdk")
    assert pubsub_emulator.find_jar() == newest


def test_no_jar_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pubsub_emulator, "_sdk_root_from_gcloud", lambda: None)
    monkeypatch.setattr(pubsub_emulator, "_STANDARD_SDK_ROOTS", (tmp_path,))
    with pytest.raises(PrerequisiteMissing, match="Pub/Sub emulator not found"):
        pubsub_emulator.find_jar()


def test_cli_prints_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bqingest", "up"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "BQINGEST_PUBSUB_EMULATOR_JAR": str(tmp_path / "nope.jar"),
            "BQINGEST_DATA_DIR": str(tmp_path / "data"),
        },
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: BQINGEST_PUBSUB_EMULATOR_JAR=")
    assert "install" in errors[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_reports_an_invalid_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bqingest", "settings"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "BQINGEST_PROJECT": "NO"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: invalid settings: BQINGEST_PROJECT: Value error, must be a GCP project id: "
        "6-30 lowercase letters, digits, hyphens"
    ]


def test_bigquery_emulator_time_travel_follows_the_setting(tmp_path: Path) -> None:
    from bqingest.local.stack import LocalStack
    from tests.conftest import local_settings

    assert LocalStack(local_settings(tmp_path)).bigquery.time_travel is False
    on = local_settings(tmp_path, bigquery_emulator_time_travel=True)
    assert LocalStack(on).bigquery.time_travel is True
