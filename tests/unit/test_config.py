"""Settings: local defaults, environment variables, groups per process, refusal of unsafe values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bqingest.config import (
    ApiSettings,
    CoreSettings,
    LocalSettings,
    OperationsSettings,
    PipelineSettings,
    SourceSettings,
    load,
)
from bqingest.config.reference import render


def make(**values: object) -> LocalSettings:
    return LocalSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_local_defaults_match_the_documented_names() -> None:
    s = make()
    assert (s.project, s.dataset, s.events_table, s.dead_letter_table) == (
        "bqingest-local",
        "bqingest",
        "events",
        "dead_letters",
    )
    assert (s.topic, s.subscription) == ("events", "events-pipeline")
    assert s.pubsub_emulator_host == "127.0.0.1:8085"
    assert s.bigquery_emulator_host == "127.0.0.1:9050"
    assert s.bigquery_emulator_grpc_host == "127.0.0.1:9060"
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8000)
    assert s.data_dir == Path(".bqingest")
    assert s.max_message_bytes == 1024 * 1024
    assert s.subscription_path == "projects/bqingest-local/subscriptions/events-pipeline"
    assert s.events_table_id == "bqingest-local.bqingest.events"


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BQINGEST_DATASET", "other")
    monkeypatch.setenv("BQINGEST_PUBSUB_EMULATOR_HOST", "127.0.0.1:18085")
    monkeypatch.setenv("BQINGEST_MAX_MESSAGE_BYTES", "2048")
    s = load(LocalSettings)
    assert (s.dataset, s.pubsub_emulator_host, s.max_message_bytes) == (
        "other",
        "127.0.0.1:18085",
        2048,
    )


def test_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BQINGEST_TOPIC=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    assert LocalSettings().topic == "from-dotenv"


def test_cloud_environment_has_no_emulators() -> None:
    s = make(environment="prod", project="acme-data-prod")
    assert s.pubsub_emulator_host is None
    assert s.bigquery_emulator_host is None
    assert not s.is_local


def test_cloud_environment_refuses_emulator_endpoints() -> None:
    with pytest.raises(ValidationError, match="for environment=local only"):
        make(environment="prod", project="acme-data-prod", pubsub_emulator_host="127.0.0.1:8085")


def test_cloud_environment_needs_a_real_project() -> None:
    with pytest.raises(ValidationError, match="needs BQINGEST_PROJECT"):
        make(environment="staging")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("project", "UPPER"),
        ("project", "abc"),
        ("topic", "go"),
        ("topic", "goog-reserved"),
        ("dataset", "has-dash"),
        ("pubsub_emulator_host", "http://127.0.0.1:8085"),
        ("ack_deadline_seconds", 2),
        ("max_message_bytes", 20 * 1024 * 1024),
    ],
)
def test_invalid_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        make(**{field: value})


def test_fault_fractions_add_up_to_at_most_one() -> None:
    with pytest.raises(ValidationError, match="must not exceed 1"):
        make(source_malformed_fraction=0.6, source_duplicate_fraction=0.6)


def test_as_environment_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    original = make(
        dataset="round_trip",
        api_keys=("sha256:" + "a" * 64, "sha256:" + "b" * 64),
        public_read=False,
        source_seed=7,
        data_dir=Path("state/elsewhere"),
    )
    env = original.as_environment()
    keys = json.loads(env["BQINGEST_API_KEYS"])
    assert [key["digest"] for key in keys] == [f"sha256:{'a' * 64}", f"sha256:{'b' * 64}"]
    assert env["BQINGEST_PUBLIC_READ"] == "false"
    assert "BQINGEST_PUBSUB_EMULATOR_JAR" not in env  # unset stays unset
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert LocalSettings(_env_file=None) == original  # type: ignore[call-arg]


def test_metrics_ports_unset_off_and_under_up(tmp_path: Path) -> None:
    from bqingest.config.pipeline import LOCAL_PIPELINE_METRICS_PORT
    from bqingest.config.source import LOCAL_SOURCE_METRICS_PORT
    from bqingest.local.services import local_services

    unset = make()
    assert unset.source_metrics_port is None and unset.pipeline_metrics_port is None
    assert (unset.local_source_metrics_port, unset.local_pipeline_metrics_port) == (
        LOCAL_SOURCE_METRICS_PORT,
        LOCAL_PIPELINE_METRICS_PORT,
    )
    services = {s.name: s for s in local_services(unset)}
    assert services["source"].env == {"BQINGEST_SOURCE_METRICS_PORT": "9464"}
    assert services["pipeline"].env == {"BQINGEST_PIPELINE_METRICS_PORT": "9465"}
    assert services["pipeline"].ready is not None
    off = {s.name: s for s in local_services(make(source_metrics_port=0))}
    assert off["source"].env == {"BQINGEST_SOURCE_METRICS_PORT": "0"}
    assert off["source"].ready is None


def test_two_processes_never_share_a_port() -> None:
    with pytest.raises(ValidationError, match="would both use port 8000"):
        make(source_metrics_port=8000)
    with pytest.raises(ValidationError, match="would both use port 9464"):
        make(pipeline_metrics_port=9464)
    assert make(source_metrics_port=0, pipeline_metrics_port=0).local_source_metrics_port == 0
    with pytest.raises(ValidationError):
        make(pipeline_metrics_port=70000)


@pytest.mark.parametrize(
    ("group", "own", "foreign"),
    [
        (ApiSettings, "api_port", "source_batch_size"),
        (PipelineSettings, "recovery_margin_seconds", "api_keys"),
        (SourceSettings, "source_seed", "recovery_margin_seconds"),
        (OperationsSettings, "reconcile_grace_seconds", "api_threads"),
    ],
)
def test_each_process_reads_its_own_group_and_the_core(group, own: str, foreign: str) -> None:
    assert own in group.model_fields
    assert set(CoreSettings.model_fields) <= set(group.model_fields)
    assert foreign not in group.model_fields
    assert set(group.model_fields) <= set(LocalSettings.model_fields)


def test_a_group_ignores_the_variables_of_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BQINGEST_API_THREADS", "not a number")  # an API setting, wrong
    assert load(SourceSettings).topic == "events"  # the source never reads it
    with pytest.raises(ValidationError, match="api_threads"):
        load(ApiSettings)


def test_environment_dependent_defaults_are_set_at_validation(monkeypatch) -> None:
    cloud = ApiSettings(_env_file=None, environment="dev", project="acme-data-dev")  # type: ignore[call-arg]
    assert (cloud.public_read, cloud.api_access_log) == (False, False)
    local = ApiSettings(_env_file=None)  # type: ignore[call-arg]
    assert (local.public_read, local.api_access_log) == (True, True)
    explicit = ApiSettings(_env_file=None, public_read=False)  # type: ignore[call-arg]
    assert explicit.public_read is False


def test_the_configuration_reference_is_generated_from_the_fields() -> None:
    reference = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert reference.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: python -m bqingest.config.reference > "
        "docs/configuration.md"
    )
    for name in LocalSettings.model_fields:
        assert f"`BQINGEST_{name.upper()}`" in render()
        assert LocalSettings.model_fields[name].description, f"{name} has no description"
