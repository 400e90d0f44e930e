"""A first apply to a new project: what made it fail on a first try, checked offline.

Images for the cloud's architecture, runtime workloads that wait for their IAM grants to
propagate, a startup probe that calls no dependency, and the manual inputs (the repository id,
the API keys secret) refused or produced in the form the configuration needs.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from bqingest import formats
from tests.static import terraform_config as tf

DEPLOY_DOC = tf.REPO / "docs" / "deploy.md"
# Modules whose workloads run as a runtime account from the moment they are created.
RUNS_AS_RUNTIME = {"cloud_run_api", "dataflow", "reconcile"}
_RUNTIME_MEMBER = re.compile(r"module\.iam\.(api_reader|dataflow_worker|reconcile)_member")


def _depends_on(body: dict[str, object]) -> set[str]:
    return {str(tf.unwrap(ref)) for ref in body.get("depends_on", [])}  # type: ignore[union-attr]


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"not a duration in seconds: {duration!r}"
    return int(match.group(1))


# --- images for Cloud Run's and Dataflow's architecture ------------------------------------------


def test_documented_image_builds_target_amd64() -> None:
    """An image built on an ARM laptop is arm64 unless told otherwise: Cloud Run refuses it and
    Dataflow's launcher and workers fail with exec format errors. (.ci/push_image.sh is run
    with fake tools in test_ci_scripts.py.)"""
    builds = [line for line in DEPLOY_DOC.read_text().splitlines() if "docker build" in line]
    assert builds, "docs/deploy.md builds no image"
    for line in builds:
        assert "--platform linux/amd64" in line, line


# --- grants propagate before what runs as the account starts -------------------------------------


def test_runtime_workloads_wait_for_their_grants_to_propagate() -> None:
    """The Dataflow job, the API and the reconcile job start only after every module that
    grants their accounts something, module.iam's project roles (roles/dataflow.worker) among
    them, and a wait for IAM propagation."""
    root = tf.load(str(tf.ROOT))
    sleeps = {name: body for (kind, name), body in root.resources.items() if kind == "time_sleep"}
    granting = {
        call
        for call, arguments in root.modules.items()
        if _RUNTIME_MEMBER.search(json.dumps(arguments))
    } | {"iam"}
    for call in RUNS_AS_RUNTIME:
        waits = [name for name in sleeps if f"time_sleep.{name}" in _depends_on(root.modules[call])]
        assert waits, f"module.{call} starts without waiting for IAM propagation"
        for name in waits:
            after = _depends_on(sleeps[name])
            missing = {f"module.{m}" for m in granting} - after
            assert not missing, f"time_sleep.{name} does not wait for {sorted(missing)}"
            default = root.variables["iam_propagation_wait"].default
            duration = sleeps[name]["create_duration"]
            assert tf.unwrap(duration) == "var.iam_propagation_wait" or _seconds(duration) >= 60
            assert _seconds(default) >= 60


def test_the_first_revision_waits_for_its_secret_grant() -> None:
    """Cloud Run reads BQINGEST_API_KEYS when the first revision starts: a grant made seconds
    before can still be refused, and the refused service is left tainted."""
    module = tf.load(str(tf.MODULES / "cloud_run_api"))
    service = module.resources[("google_cloud_run_v2_service", "api")]
    (wait,) = [ref for ref in _depends_on(service) if ref.startswith("time_sleep.")]
    sleep = module.resources[("time_sleep", wait.split(".", 1)[1])]
    assert "google_secret_manager_secret_iam_member.runtime_reads_api_keys" in json.dumps(
        sleep.get("triggers", {})
    ) or "google_secret_manager_secret_iam_member.runtime_reads_api_keys" in _depends_on(sleep)


def test_the_documented_first_apply_grants_the_secret_where_it_creates_it() -> None:
    """Step 3a creates the secret and its accessor grant together, minutes before the service
    exists; the runbook says how to recover a service left tainted anyway."""
    doc = DEPLOY_DOC.read_text()
    (step,) = [block for block in doc.split("\n\n") if "# 3a." in block]
    assert "-target=module.cloud_run_api.google_secret_manager_secret.api_keys" in step
    assert "-target=module.cloud_run_api.google_secret_manager_secret_iam_member" in step
    runbook = (tf.REPO / "docs" / "runbook.md").read_text()
    assert "terraform untaint module.cloud_run_api.google_cloud_run_v2_service.api" in runbook


# --- the startup probe ---------------------------------------------------------------------------


def test_the_startup_probe_calls_no_dependency() -> None:
    """Readiness asks BigQuery and Pub/Sub within 3 s; as a startup probe with a 2 s timeout a
    slow dependency would keep every new instance from starting. Startup and liveness ask
    /healthz, which calls nothing."""
    module = tf.load(str(tf.MODULES / "cloud_run_api"))
    (container,) = module.resources[("google_cloud_run_v2_service", "api")]["template"][0][
        "containers"
    ]
    for probe in ("startup_probe", "liveness_probe"):
        (block,) = container[probe]
        assert block["http_get"][0]["path"] == "/healthz", probe
    probes = (tf.REPO / "src" / "bqingest" / "api" / "routes" / "probes.py").read_text()
    healthz = probes.split("async def healthz", 1)[1].split("async def", 1)[0]
    assert "Dep" not in healthz, "/healthz must take no dependency"


# --- manual inputs -------------------------------------------------------------------------------


def test_the_placeholder_repository_id_is_refused() -> None:
    """terraform.tfvars ships a placeholder repository id: it must fail validation, or the
    first apply trusts a repository that is not yours (or none)."""
    placeholder = tf.parse(tf.ROOT / "terraform.tfvars")["github_repository_id"]
    patterns = []
    for directory in (tf.ROOT, tf.MODULES / "iam"):
        body = tf.parse(directory / "variables.tf")
        for block in body["variable"]:
            for name, spec in block.items():
                if name != "github_repository_id":
                    continue
                for validation in spec.get("validation", []):
                    found = re.search(r'regex\("((?:[^"\\]|\\.)*)"', validation["condition"])
                    assert found, validation
                    patterns.append(json.loads(f'"{found.group(1)}"'))
    assert patterns
    for pattern in patterns:
        assert not re.search(pattern, placeholder), f"{placeholder!r} passes {pattern}"
        assert re.search(pattern, "123456789"), pattern


def test_the_documented_api_keys_secret_holds_digests(tmp_path: Path) -> None:
    """The secret's value is BQINGEST_API_KEYS: `sha256:` digests from `bqingest api hash-key`,
    never a key (a raw key stops the container at start). The documented command, run here,
    gives a value the API's settings accept."""
    doc = DEPLOY_DOC.read_text()
    (step,) = [block for block in doc.split("\n\n") if "# 3b." in block]
    assert "bqingest api hash-key" in step and "sha256:" in step
    (command,) = [line for line in step.splitlines() if line.startswith("DIGEST=")]
    bqingest = tf.REPO / ".venv" / "bin" / "bqingest"
    result = subprocess.run(
        ["bash", "-c", f'{command.replace("bqingest ", f"{bqingest} ", 1)}\nprintf %s "$DIGEST"'],
        env={"API_KEY": "a-key-of-at-least-32-characters-0123456789", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(formats.API_KEY_DIGEST, result.stdout), result.stdout


def test_the_deploy_doc_counts_its_manual_steps_and_names_real_tests() -> None:
    """docs/deploy.md states how many manual steps a new project takes, lists exactly that many,
    and every test it names as a step's check exists."""
    doc = DEPLOY_DOC.read_text()
    count = re.search(r"## From nothing to a green deployment: (\d+) manual steps", doc)
    assert count, "docs/deploy.md does not state its number of manual steps"
    section = doc[count.end() :].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \|", section, flags=re.M)
    assert rows == [str(i) for i in range(1, int(count.group(1)) + 1)], rows
    named = set(re.findall(r"`(test_\w+)`", section))
    assert named
    defined = {
        match
        for path in (tf.REPO / "tests" / "static").glob("test_*.py")
        for match in re.findall(r"^def (test_\w+)\(", path.read_text(), flags=re.M)
    }
    assert named <= defined, sorted(named - defined)
