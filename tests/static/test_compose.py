"""docker-compose.yml: parses, builds from Dockerfiles that exist, runs commands that exist, and
configures bqingest only through settings it has. No Docker engine runs here, so these checks are
what stands between a typo and a user's failed `docker compose up`."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
import typer.main
import yaml

from bqingest.cli import app
from bqingest.config import LocalSettings
from tests.static import delivery_config as dc

COMPOSE = dc.REPO / "docker-compose.yml"
SETTING_NAMES = {f"BQINGEST_{name.upper()}" for name in LocalSettings.model_fields}
EXTERNAL_IMAGES = {"pubsub"}  # Google's emulator image: its command is gcloud's, not ours
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def cli_paths() -> set[tuple[str, ...]]:
    """Every command path the bqingest CLI accepts: ("up",), ("deadletters", "list")..."""
    root = typer.main.get_command(app)
    paths: set[tuple[str, ...]] = set()

    def walk(command: Any, prefix: tuple[str, ...]) -> None:
        paths.add(prefix)
        for name, sub in getattr(command, "commands", {}).items():  # groups have sub-commands
            walk(sub, (*prefix, name))

    walk(root, ())
    return paths


def test_compose_runs_the_whole_system() -> None:
    assert set(services()) == {"pubsub", "bigquery", "bootstrap", "pipeline", "source", "api"}
    assert services()["api"]["ports"] == ["127.0.0.1:8000:8000"]


@pytest.mark.parametrize("name", sorted(services()))
def test_builds_use_dockerfiles_that_exist(name: str) -> None:
    service = services()[name]
    build = service.get("build")
    if build is None:
        assert name in EXTERNAL_IMAGES, f"{name}: no build and not a known external image"
        assert re.search(r":\d+\.\d+\.\d+-emulators$", service["image"]), "pin the emulator image"
        return
    assert build["context"] == ".", "every image builds from the repository root"
    dockerfile = dc.REPO / build["dockerfile"]
    assert dockerfile in dc.dockerfiles(), f"{name}: {dockerfile} is not a Dockerfile we lint"


@pytest.mark.parametrize("name", sorted(set(services()) - EXTERNAL_IMAGES))
def test_commands_exist(name: str) -> None:
    service = services()[name]
    command = command_of(service)
    if not command:  # the image's own CMD (the API image runs uvicorn with the app factory)
        assert service["build"]["dockerfile"] == "Dockerfile"
        return
    if command[0] == "bqingest":
        words = tuple(word for word in command[1:] if not word.startswith("-"))
        assert words in cli_paths(), f"{name}: `bqingest {' '.join(words)}` is not a command"
    elif command[:2] == ["python", "-m"]:
        assert importlib.util.find_spec(command[2]) is not None, f"{name}: no module {command[2]}"
    else:
        pytest.fail(f"{name}: command {command[0]!r} is neither bqingest nor python -m")


@pytest.mark.parametrize("name", sorted(services()))
def test_environment_uses_only_bqingest_settings(name: str) -> None:
    environment = services()[name].get("environment", {})
    ours = {key for key in environment if key.startswith("BQINGEST_")}
    assert ours <= SETTING_NAMES, f"{name}: not settings: {sorted(ours - SETTING_NAMES)}"
    if ours:
        # The values are valid settings too (host:port formats, environment, project...).
        values = {key.removeprefix("BQINGEST_").lower(): environment[key] for key in ours}
        LocalSettings(_env_file=None, **values)


def test_every_bqingest_service_reaches_the_emulators_by_service_name() -> None:
    for name, service in services().items():
        environment = service.get("environment", {})
        if name in EXTERNAL_IMAGES:
            continue
        assert environment["BQINGEST_PUBSUB_EMULATOR_HOST"] == "pubsub:8085", name
        assert environment["BQINGEST_BIGQUERY_EMULATOR_HOST"] == "bigquery:9050", name
        assert environment["BQINGEST_BIGQUERY_EMULATOR_GRPC_HOST"] == "bigquery:9060", name


def test_the_emulator_listens_where_the_services_look() -> None:
    bigquery = " ".join(command_of(services()["bigquery"]))
    assert "--rest-port=9050" in bigquery and "--grpc-port=9060" in bigquery
    assert "--rest-host=0.0.0.0" in bigquery and "--grpc-host=0.0.0.0" in bigquery
    assert "--host-port=0.0.0.0:8085" in command_of(services()["pubsub"])


def test_start_order_is_declared() -> None:
    all_services = services()
    for name, service in all_services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            assert spec["condition"] in DEPENDS_CONDITIONS
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in all_services[dependency], dependency
            if spec["condition"] == "service_completed_successfully":
                assert all_services[dependency].get("restart") == "no", dependency
    assert all_services["bootstrap"]["depends_on"] == {
        "pubsub": {"condition": "service_healthy"},
        "bigquery": {"condition": "service_healthy"},
    }
    for name in ("pipeline", "api"):
        assert "bootstrap" in all_services[name]["depends_on"]


def test_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"


def test_published_ports_bind_the_loopback_only() -> None:
    """The emulators have no authentication and the local API opens reads: published on
    0.0.0.0 (compose's default) anyone on the network reaches them."""
    published = [
        (name, str(port))
        for name, service in services().items()
        for port in service.get("ports", [])
    ]
    assert published
    for name, port in published:
        assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
