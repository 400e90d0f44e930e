"""The scripts in .ci/ that the workflows run, run here the way the workflows run them.

What cannot run here is replaced at the seam: a local HTTP server plays the deployed Cloud Run
service (private behind identity tokens, reads behind an API key), and stand-in ``gcloud`` and
``docker`` executables on PATH record what the image script asks of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bqingest.contract import MessageContext, parse_message
from tests.static.delivery_config import REPO
from tests.support import free_port

CI = REPO / ".ci"


def run_script(
    name: str, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = CI / name
    command = [sys.executable, str(script)] if name.endswith(".py") else ["bash", str(script)]
    return subprocess.run(
        [*command, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


# --- junit_summary.py ----------------------------------------------------------------------------


def test_junit_summary_counts_a_real_pytest_report(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_also_ok(): pass\n"
        "def test_broken(): assert 1 == 2, 'one | is <not> two'\n"
        "@pytest.mark.skip(reason='not today')\n"
        "def test_skipped(): pass\n"
        "@pytest.fixture\n"
        "def bad(): raise RuntimeError('setup exploded')\n"
        "def test_error(bad): pass\n"
    )
    report = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:bqemulator",
         f"--junitxml={report}", "-q", str(tmp_path / "test_sample.py")],
        cwd=tmp_path, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    result = run_script("junit_summary.py", report, "--title", "make test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "### make test: FAILED"
    assert "| 2 | 1 | 1 | 1 | 5 |" in result.stdout
    broken = next(line for line in lines if "test_broken" in line)
    assert "| failure |" in broken and "one \\| is &lt;not&gt; two" in broken
    assert any("test_error" in line and "| error |" in line for line in lines)


def test_junit_summary_of_a_passing_run(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest" tests="1" time="1.25">'
        '<testcase classname="tests.test_a" name="test_ok" time="0.1"/>'
        "</testsuite></testsuites>"
    )
    result = run_script("junit_summary.py", report)
    assert result.stdout.splitlines()[0] == "### Tests: passed"
    assert "| 1 | 0 | 0 | 0 | 1 | 1.2 |" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such report"), ("not xml <", "not XML"), ("<html/>", "not a JUnit report")],
)
def test_junit_summary_refuses_what_is_not_a_report(
    tmp_path: Path, content: str | None, message: str
) -> None:
    report = tmp_path / "junit.xml"
    if content is not None:
        report.write_text(content)
    result = run_script("junit_summary.py", report)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


# --- terraform_report.py -------------------------------------------------------------------------

API = "module.cloud_run_api.google_cloud_run_v2_service.api"
JOB = "module.dataflow.google_dataflow_flex_template_job.pipeline"
IMAGE = "us-central1-docker.pkg.dev/bqingest-dev/bqingest/api:" + "a" * 40
PIPELINE_IMAGE = "us-central1-docker.pkg.dev/bqingest-dev/bqingest/pipeline:" + "f" * 40
SPEC = "gs://bqingest-dev-bqingest-dataflow/templates/bqingest-pipeline-" + "a" * 40 + ".json"


def state_json() -> dict[str, Any]:
    """The shape terraform show -json gives a state (values.root_module.child_modules)."""
    return {
        "format_version": "1.0",
        "terraform_version": "1.12.2",
        "values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.cloud_run_api",
                        "resources": [
                            {
                                "address": API,
                                "mode": "managed",
                                "type": "google_cloud_run_v2_service",
                                "name": "api",
                                "values": {"template": [{"containers": [{"image": IMAGE}]}]},
                            }
                        ],
                    },
                    {
                        "address": "module.dataflow",
                        "resources": [
                            {
                                "address": JOB,
                                "mode": "managed",
                                "values": {
                                    "container_spec_gcs_path": SPEC,
                                    "sdk_container_image": PIPELINE_IMAGE,
                                    "name": "p",
                                },
                            }
                        ],
                    },
                ]
            }
        },
    }


def change(address: str, actions: list[str], before: Any, after: Any) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}},
    }


def plan_json(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes)}


def report(tmp_path: Path, command: str, document: Any) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{command}.json"
    path.write_text(json.dumps(document))
    return run_script("terraform_report.py", command, path)


def test_deployed_reads_image_and_spec_from_the_state(tmp_path: Path) -> None:
    result = report(tmp_path, "deployed", state_json())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"api_image={IMAGE}",
        f"pipeline_image={PIPELINE_IMAGE}",
        f"dataflow_container_spec_gcs_path={SPEC}",
    ]


def test_deployed_says_nothing_for_an_empty_state(tmp_path: Path) -> None:
    result = report(tmp_path, "deployed", {"format_version": "1.0"})
    assert result.returncode == 0
    assert result.stdout.strip() == ""


def test_deployed_refuses_a_value_that_would_forge_an_output(tmp_path: Path) -> None:
    state = state_json()
    resource = state["values"]["root_module"]["child_modules"][0]["resources"][0]
    resource["values"]["template"][0]["containers"][0]["image"] = "x\nTF_VAR_evil=1"
    result = report(tmp_path, "deployed", state)
    assert result.returncode == 2
    assert "line break" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["update"], "update"),
        (["delete", "create"], "replace"),
        (["create", "delete"], "replace"),
        (["create"], "create"),
        (["no-op"], "no-op"),
    ],
)
def test_dataflow_action_of_a_plan(tmp_path: Path, actions: list[str], expected: str) -> None:
    old = {"container_spec_gcs_path": SPEC, "max_workers": 3, "name": "p"}
    new = {**old, "container_spec_gcs_path": SPEC.replace("a" * 40, "b" * 40)}
    plan = plan_json(
        change(JOB, actions, old, new),
        change(API, ["update"], {"x": 1}, {"x": 2}),
        change("module.pubsub.google_pubsub_topic.events", ["no-op"], {}, {}),
        {"address": "data.google_project.this", "mode": "data", "change": {"actions": ["read"]}},
    )
    result = report(tmp_path, "dataflow", plan)
    assert result.returncode == 0, result.stderr
    values = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert values["action"] == expected
    assert values["other_changes"] == "1"
    changed = "container_spec_gcs_path" if expected in ("update", "replace") else ""
    assert values["changed"] == changed


def test_dataflow_after_a_refused_update_only_the_job_is_left(tmp_path: Path) -> None:
    plan = plan_json(
        change(
            JOB, ["update"], {"container_spec_gcs_path": SPEC}, {"container_spec_gcs_path": "n"}
        ),
        change(API, ["no-op"], {"x": 1}, {"x": 1}),
    )
    values = dict(
        line.split("=", 1) for line in report(tmp_path, "dataflow", plan).stdout.splitlines()
    )
    assert (values["action"], values["other_changes"]) == ("update", "0")


def test_dataflow_refuses_a_state_or_garbage(tmp_path: Path) -> None:
    assert report(tmp_path, "dataflow", state_json()).returncode == 2
    assert report(tmp_path, "dataflow", {"not": "terraform"}).returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = run_script("terraform_report.py", "dataflow", bad)
    assert result.returncode == 2 and "not JSON" in result.stderr


def test_summary_shows_the_verdict_and_fences_the_plan(tmp_path: Path) -> None:
    text = (
        "Terraform will perform the following actions:\n"
        '  # module.x.y will be updated in-place\n  ~ name = "```a```" -> "b"\n\n'
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
    )
    plan = tmp_path / "plan.txt"
    plan.write_text(text)
    result = run_script("terraform_report.py", "summary", plan, "--environment", "staging")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("### Terraform plan: staging\n")
    assert "**Plan: 0 to add, 1 to change, 0 to destroy.**" in out
    assert "\n````text\n" in out and "\n````\n" in out  # longer than the plan's own backticks


def test_summary_truncates_a_huge_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("No changes. Your infrastructure matches the configuration.\n" + "x\n" * 50_000)
    out = run_script("terraform_report.py", "summary", plan, "--environment", "dev").stdout
    assert "**No changes. Your infrastructure matches the configuration.**" in out
    assert "truncated" in out and len(out) < 70_000


# --- smoke_test.py -------------------------------------------------------------------------------

TOKEN = "id-token-of-the-invoker"
KEY = "an-api-key"


class FakeService:
    """A private Cloud Run service: 403 without the token; reads need the key; the event appears
    after ``appears_after`` lookups (the pipeline's latency)."""

    def __init__(self, *, public: bool = False, ready: bool = True, appears_after: int = 2):
        self.public, self.ready, self.appears_after = public, ready, appears_after
        self.lookups = 0
        self.known_id: str | None = None

    def respond(self, path: str, headers: Any) -> tuple[int, dict[str, Any]]:
        if not self.public and headers.get("Authorization") != f"Bearer {TOKEN}":
            return 403, {"error": "Forbidden"}
        if path == "/readyz":
            return (200, {"status": "ready"}) if self.ready else (503, {"status": "starting"})
        if path.startswith("/api/v1/"):
            if headers.get("X-API-Key") != KEY:
                return 401, {"error": {"code": "unauthenticated"}}
            self.lookups += 1
            event_id = path.removeprefix("/api/v1/")
            if event_id == self.known_id and self.lookups > self.appears_after:
                return 200, {"event": {"id": event_id, "type": "x"}, "ingestion": {}}
            return 404, {"error": {"code": "not_found"}}
        return 404, {}


@pytest.fixture
def service() -> Iterator[tuple[FakeService, str]]:
    fake = FakeService()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.respond(self.path, self.headers)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def smoke(
    url: str,
    event_id: str,
    *,
    key: str | None,
    summary: Path,
    timeout: str = "3",
    environment: str = "local",
):
    env = {"SMOKE_ID_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": str(summary), "SMOKE_API_KEY": ""}
    if key is not None:
        env["SMOKE_API_KEY"] = key
    return run_script(
        "smoke_test.py", "check", "--url", url, "--event-id", event_id,
        "--timeout", timeout, "--interval", "0.05", "--environment", environment, env=env,
    )  # fmt: skip


def test_smoke_event_is_a_valid_cloudevent() -> None:
    result = run_script(
        "smoke_test.py", "event", "--id", "smoke-0123456789ab-42-1",
        "--source", "https://github.com/acme/bqingest/actions/runs/42", "--commit", "0" * 40,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    published = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    event = parse_message(
        result.stdout.strip().encode(),
        MessageContext(message_id="1", publish_time=published, attributes={}),
    )
    assert event.id == "smoke-0123456789ab-42-1"
    assert event.type == "dev.bqingest.smoke-test"


def test_smoke_test_end_to_end_with_a_key(service: tuple[FakeService, str], tmp_path: Path) -> None:
    fake, url = service
    fake.known_id = "smoke-abc-1-1"
    summary = tmp_path / "summary.md"
    result = smoke(url, "smoke-abc-1-1", key=KEY, summary=summary)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.lookups == 3  # polled until the pipeline had delivered it
    written = summary.read_text()
    assert "private: a request without a token gets HTTP 403" in written
    assert "came back through Pub/Sub, Dataflow and BigQuery" in written


def test_smoke_test_without_a_key_checks_reads_are_refused(
    service: tuple[FakeService, str], tmp_path: Path
) -> None:
    _, url = service
    result = smoke(url, "smoke-abc-1-1", key=None, summary=tmp_path / "s.md")
    assert result.returncode == 0, result.stdout
    assert "HTTP 401 as configured" in result.stdout


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_smoke_test_requires_a_key_outside_local(
    service: tuple[FakeService, str], tmp_path: Path, environment: str
) -> None:
    """Without a key nothing reaches Dataflow or BigQuery: a broken pipeline would pass."""
    _, url = service
    result = smoke(url, "x", key=None, summary=tmp_path / "s.md", environment=environment)
    assert result.returncode == 2 and "SMOKE_API_KEY is not set" in result.stderr


def test_the_deployment_always_publishes_and_reads_back() -> None:
    workflow = (REPO / ".github" / "workflows" / "deployment.yml").read_text()
    smoke_step = workflow.split("- name: Smoke test", 1)[1]
    assert 'if [ -n "$SMOKE_API_KEY" ]' not in smoke_step
    assert 'gcloud pubsub topics publish "$TOPIC"' in smoke_step
    assert '--environment "$ENVIRONMENT"' in smoke_step


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"public": True}, "answers without an identity token"),
        ({"ready": False}, "/readyz 200: not seen within"),
        ({"appears_after": 10_000}, "not seen within"),
    ],
)
def test_smoke_test_fails_with_a_reason(
    service: tuple[FakeService, str], tmp_path: Path, setup: dict[str, Any], message: str
) -> None:
    fake, url = service
    for name, value in setup.items():
        setattr(fake, name, value)
    fake.known_id = "smoke-abc-1-1"
    summary = tmp_path / "summary.md"
    result = smoke(url, "smoke-abc-1-1", key=KEY, summary=summary, timeout="0.5")
    assert result.returncode == 1
    assert message in result.stdout
    assert "**FAILED**" in summary.read_text()


def test_smoke_test_with_a_refused_key_fails_at_once(
    service: tuple[FakeService, str], tmp_path: Path
) -> None:
    _, url = service
    result = smoke(url, "smoke-abc-1-1", key="wrong", summary=tmp_path / "s.md", timeout="30")
    assert result.returncode == 1
    assert "the key is refused" in result.stdout


def test_smoke_test_needs_a_token_and_a_reachable_url(tmp_path: Path) -> None:
    result = run_script("smoke_test.py", "check", "--url", "http://127.0.0.1:1", "--event-id", "x")
    assert result.returncode == 2 and "SMOKE_ID_TOKEN" in result.stderr
    closed = f"http://127.0.0.1:{free_port()}"
    result = smoke(closed, "x", key=None, summary=tmp_path / "s.md")
    assert result.returncode == 1 and "**FAILED**" in result.stdout


# --- push_image.sh -------------------------------------------------------------------------------


def fake_tools(tmp_path: Path, *, image_exists: bool) -> tuple[dict[str, str], Path]:
    """gcloud and docker stand-ins that log their arguments; describe succeeds if image_exists."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    describe_exit = 0 if image_exists else 1
    # Once pushed, describe knows the image and prints its digest when asked for it.
    (bin_dir / "gcloud").write_text(
        f'#!/bin/sh\necho "gcloud $*" >> "{log}"\n'
        f'case "$*" in *"images describe"*"--format"*) echo "{DIGEST}"; exit 0 ;;\n'
        f'  *"images describe"*) exit {describe_exit} ;; esac\nexit 0\n'
    )
    (bin_dir / "docker").write_text(f'#!/bin/sh\necho "docker $*" >> "{log}"\n')
    for tool_path in bin_dir.iterdir():
        tool_path.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GITHUB_SHA": "f" * 40}
    return env, log


IMAGE_REF = "europe-west1-docker.pkg.dev/bqingest-prod/bqingest/api:" + "f" * 40
DIGEST = "sha256:" + "0123456789abcdef" * 4


def test_push_image_builds_and_pushes_a_new_tag(tmp_path: Path) -> None:
    env, log = fake_tools(tmp_path, image_exists=False)
    result = run_script("push_image.sh", "Dockerfile", IMAGE_REF, env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "gcloud auth configure-docker europe-west1-docker.pkg.dev --quiet"
    assert calls[1] == f"gcloud artifacts docker images describe {IMAGE_REF}"
    # Built for Cloud Run's and Dataflow's architecture whatever the machine (an ARM laptop).
    assert calls[2].startswith(
        f"docker build --pull --platform linux/amd64 --file Dockerfile --tag {IMAGE_REF} "
    )
    assert f"org.opencontainers.image.revision={'f' * 40}" in calls[2]
    assert calls[2].endswith(" .")
    assert calls[3] == f"docker push {IMAGE_REF}"
    # Terraform gets the image by digest: what was pushed, not what a tag may later name.
    lines = result.stdout.splitlines()
    assert f"digest={DIGEST}" in lines
    assert f"image={IMAGE_REF.rsplit(':', 1)[0]}@{DIGEST}" in lines


def test_push_image_refuses_an_image_without_a_digest(tmp_path: Path) -> None:
    env, _log = fake_tools(tmp_path, image_exists=True)
    gcloud = Path(env["PATH"].split(os.pathsep)[0]) / "gcloud"
    gcloud.write_text(gcloud.read_text().replace(DIGEST, ""))
    result = run_script("push_image.sh", "Dockerfile", IMAGE_REF, env=env)
    assert result.returncode == 1 and "no digest" in result.stderr


def test_push_image_reuses_an_existing_tag(tmp_path: Path) -> None:
    env, log = fake_tools(tmp_path, image_exists=True)
    result = run_script("push_image.sh", "dataflow/Dockerfile", IMAGE_REF, env=env)
    assert result.returncode == 0
    assert "already exists: not rebuilt" in result.stdout
    assert not any(c.startswith("docker") for c in log.read_text().splitlines())
    assert f"digest={DIGEST}" in result.stdout.splitlines()


# --- promote_image.sh and resolve_image.sh --------------------------------------------------------

SOURCE_REF = "us-central1-docker.pkg.dev/bqingest-dev/bqingest/api@" + DIGEST
TARGET_REF = "us-central1-docker.pkg.dev/bqingest-staging/bqingest/api:" + "e" * 40
OTHER_DIGEST = "sha256:" + "fedcba9876543210" * 4


def promotion_tools(
    tmp_path: Path, known: dict[str, str], *, copy_gives: str = DIGEST
) -> tuple[dict[str, str], Path]:
    """gcloud and skopeo stand-ins. describe prints the digest of an image in `known` (else fails);
    skopeo copy makes its destination known with the digest `copy_gives`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    state = tmp_path / "images"
    state.write_text("".join(f"{image} {digest}\n" for image, digest in known.items()))
    (bin_dir / "gcloud").write_text(
        f'#!/bin/sh\necho "gcloud $*" >> "{log}"\n'
        'case "$*" in\n'
        '  "auth print-access-token") echo token ;;\n'
        '  "artifacts docker images describe "*)\n'
        f'    awk -v i="$5" \'$1 == i {{ print $2; f = 1 }} END {{ exit !f }}\' "{state}" ;;\n'
        "  *) exit 1 ;;\nesac\n"
    )
    (bin_dir / "skopeo").write_text(
        f'#!/bin/sh\necho "skopeo $*" >> "{log}"\n'
        # --password-stdin: the token arrives on stdin, never in the arguments.
        f'if [ "$1" = login ]; then echo "password $(cat)" >> "{log}"; fi\n'
        'if [ "$1" = copy ]; then eval "dest=\\${$#}"\n'
        f'  echo "${{dest#docker://}} {copy_gives}" >> "{state}"\nfi\n'
    )
    for tool_path in bin_dir.iterdir():
        tool_path.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def test_promote_image_copies_by_digest_and_keeps_it(tmp_path: Path) -> None:
    env, log = promotion_tools(tmp_path, {SOURCE_REF: DIGEST})
    result = run_script("promote_image.sh", SOURCE_REF, TARGET_REF, env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    # One login per registry host (here both are the same host), with gcloud's access token.
    logins = [c for c in calls if c.startswith("skopeo login")]
    assert logins == [
        "skopeo login --username oauth2accesstoken --password-stdin us-central1-docker.pkg.dev"
    ]
    assert "password token" in calls
    # Every manifest of the image, byte for byte, or a failure: never a rebuild.
    assert (
        f"skopeo copy --all --preserve-digests docker://{SOURCE_REF} docker://{TARGET_REF}" in calls
    )
    assert not any(c.startswith("docker") for c in calls)
    lines = result.stdout.splitlines()
    assert f"digest={DIGEST}" in lines
    assert f"image={TARGET_REF.rsplit(':', 1)[0]}@{DIGEST}" in lines


def test_promote_image_refuses_a_copy_that_arrived_with_another_digest(tmp_path: Path) -> None:
    env, _log = promotion_tools(tmp_path, {SOURCE_REF: DIGEST}, copy_gives=OTHER_DIGEST)
    result = run_script("promote_image.sh", SOURCE_REF, TARGET_REF, env=env)
    assert result.returncode == 1 and f"not {DIGEST}" in result.stderr
    assert "image=" not in result.stdout


def test_promote_image_refuses_a_source_by_tag(tmp_path: Path) -> None:
    env, log = promotion_tools(tmp_path, {})
    by_tag = SOURCE_REF.split("@")[0] + ":" + "e" * 40
    result = run_script("promote_image.sh", by_tag, TARGET_REF, env=env)
    assert result.returncode == 1 and "not an image by digest" in result.stderr
    assert not log.exists()


def test_promote_image_reuses_a_tag_of_the_same_digest_and_refuses_another(tmp_path: Path) -> None:
    env, log = promotion_tools(tmp_path, {TARGET_REF: DIGEST})
    result = run_script("promote_image.sh", SOURCE_REF, TARGET_REF, env=env)
    assert result.returncode == 0 and "not copied" in result.stdout
    assert not any(c.startswith("skopeo") for c in log.read_text().splitlines())
    other = tmp_path / "other"
    other.mkdir()
    env, _log = promotion_tools(other, {TARGET_REF: OTHER_DIGEST})
    result = run_script("promote_image.sh", SOURCE_REF, TARGET_REF, env=env)
    assert result.returncode == 1 and "immutable" in result.stderr


def test_resolve_image_prefers_this_registry_then_the_source(tmp_path: Path) -> None:
    source_tag = SOURCE_REF.split("@")[0] + ":" + "e" * 40
    env, _log = promotion_tools(tmp_path, {source_tag: DIGEST})
    result = run_script("resolve_image.sh", TARGET_REF, source_tag, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"image={TARGET_REF.rsplit(':', 1)[0]}@{DIGEST}",
        f"source={SOURCE_REF}",
    ]
    # Promoted before, and the source's cleanup deleted it since: this registry's digest.
    here = tmp_path / "here"
    here.mkdir()
    env, _log = promotion_tools(here, {TARGET_REF: OTHER_DIGEST})
    result = run_script("resolve_image.sh", TARGET_REF, source_tag, env=env)
    assert result.stdout.splitlines() == [
        f"image={TARGET_REF.rsplit(':', 1)[0]}@{OTHER_DIGEST}",
        "source=",
    ]
    # Promoted before, with the same digest as the source: used as it is.
    same = tmp_path / "same"
    same.mkdir()
    env, _log = promotion_tools(same, {TARGET_REF: DIGEST, source_tag: DIGEST})
    result = run_script("resolve_image.sh", TARGET_REF, source_tag, env=env)
    assert result.stdout.splitlines() == [
        f"image={TARGET_REF.rsplit(':', 1)[0]}@{DIGEST}",
        "source=",
    ]
    # This registry's tag holds other bytes than the source's: refused, never deployed.
    differs = tmp_path / "differs"
    differs.mkdir()
    env, _log = promotion_tools(differs, {TARGET_REF: OTHER_DIGEST, source_tag: DIGEST})
    result = run_script("resolve_image.sh", TARGET_REF, source_tag, env=env)
    assert result.returncode == 1 and "does not hold the tested image" in result.stderr
    assert "image=" not in result.stdout
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    env, _log = promotion_tools(nowhere, {})
    result = run_script("resolve_image.sh", TARGET_REF, source_tag, env=env)
    assert result.returncode == 1 and "first environment only" in result.stderr
