"""The pipeline's image (dataflow/Dockerfile): one image, the launcher and the workers' SDK
container, with everything installed from constraints.txt when it is built.

No Docker engine runs here. The Dockerfile's instructions are checked for what they must and
must not do, the Terraform job and the deployment are checked to use the image both ways, and
the slow test builds the image's Python environment (same Python minor version, same
requirement list, same constraints, same pip command) and runs the template's entry point in it
with the job's parameters, up to the point where the job would be submitted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.static import delivery_config as dc
from tests.static import pipeline_environment
from tests.static import terraform_config as tf

DOCKERFILE = pipeline_environment.DOCKERFILE
ENTRY_POINT = dc.REPO / "dataflow" / "main.py"
LAUNCH_SCRIPT = Path(__file__).with_name("flex_template_launch.py")
DEPLOYMENT = dc.WORKFLOWS / "deployment.yml"
LAUNCHER_BINARY = "/opt/google/dataflow/python_template_launcher"
BEAM_HARNESS = "/opt/apache/beam"
# What the launcher must not do at launch: resolve requirements or build the package.
LAUNCH_TIME_INSTALLS = {
    "FLEX_TEMPLATE_PYTHON_SETUP_FILE",
    "FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE",
    "FLEX_TEMPLATE_PYTHON_EXTRA_PACKAGES",
    "FLEX_TEMPLATE_PYTHON_PY_OPTIONS",
}
PIPELINE_IMAGE = "us-central1-docker.pkg.dev/bqingest-dev/bqingest/pipeline:0123abc"
# A value for each of the job's parameters, as Terraform passes them (module dataflow).
PARAMETER_SAMPLES = {
    "subscription": "projects/bqingest-dev/subscriptions/events-pipeline",
    "events_table": "bqingest-dev.bqingest.events",
    "dead_letter_table": "bqingest-dev.bqingest.dead_letters",
    "max_message_bytes": "1048576",
    "dead_letter_payloads": "gs://bqingest-dev-bqingest-dataflow/dead-letter-payloads",
}


def job() -> dict:
    return tf.load(str(tf.MODULES / "dataflow")).resources[
        ("google_dataflow_flex_template_job", "pipeline")
    ]


# --- the Dockerfile -------------------------------------------------------------------------------


def test_the_image_installs_everything_when_built_and_nothing_at_launch() -> None:
    env = dc.dockerfile_env(DOCKERFILE)
    assert env["FLEX_TEMPLATE_PYTHON_PY_FILE"] == "/template/main.py"
    assert not LAUNCH_TIME_INSTALLS & set(env), LAUNCH_TIME_INSTALLS & set(env)
    final = dc.final_stage(DOCKERFILE)
    copies = {a.split()[0]: a for k, a in final if k == "COPY" and a.startswith("--from=")}
    assert copies["--from=launcher"].split()[1:] == [LAUNCHER_BINARY, LAUNCHER_BINARY]
    assert copies["--from=beam"].split()[1:] == [BEAM_HARNESS, BEAM_HARNESS]
    entrypoint = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    assert entrypoint == [[f"{BEAM_HARNESS}/boot"]], "an SDK container starts Beam's harness"
    runs = [a for k, a in final if k == "RUN"]
    dependencies, package = (" ".join(run.split()) for run in runs)
    assert (
        "pip install --no-cache-dir --require-hashes --no-deps --requirement pipeline.txt"
        in dependencies
    )
    assert "pip install --no-cache-dir --no-deps /tmp/dist/*.whl" in package
    assert "pip check" in package


def test_the_harness_and_the_interpreter_match_the_pins() -> None:
    """Beam's boot binary comes from the image of the Beam release constraints.txt pins, for the
    interpreter's minor version, and the launcher from Dataflow's launcher image of that minor."""
    minor = pipeline_environment.python_minor()
    stages = {
        a.split(" AS ")[1]: a.split(" AS ")[0]
        for k, a in dc.dockerfile_instructions(DOCKERFILE)
        if k == "FROM" and " AS " in a
    }
    beam = dc.constraint_pins()["apache-beam"]
    assert stages["beam"] == f"apache/beam_python{minor}_sdk:{beam}"
    launcher = stages["launcher"]
    compact = minor.replace(".", "")
    assert re.fullmatch(
        rf"gcr\.io/dataflow-templates-base/python{compact}-template-launcher-base:[\w.-]+",
        launcher,
    ), launcher
    assert not launcher.endswith(":latest")


# --- Terraform and the deployment use the one image both ways -------------------------------------


def test_the_workers_run_the_image_that_launched_them() -> None:
    assert tf.unwrap(job()["sdk_container_image"]) == "var.sdk_container_image"
    root = tf.load(str(tf.ROOT))
    assert tf.unwrap(root.modules["dataflow"]["sdk_container_image"]) == "var.pipeline_image"
    assert not root.variables["pipeline_image"].has_default
    steps = dc.load_yaml(DEPLOYMENT)["jobs"]["deploy"]["steps"]
    refs = next(s for s in steps if s.get("id") == "refs")["run"]
    # One value, the plan's image by digest, for Terraform and for the template spec.
    assert 'echo "TF_VAR_pipeline_image=${PIPELINE_IMAGE}"' in refs
    assert 'echo "pipeline_image=${PIPELINE_IMAGE}"' in refs
    build = next(s for s in steps if "flex-template build" in s.get("run", ""))
    assert build["env"]["IMAGE"] == "${{ steps.refs.outputs.pipeline_image }}"
    assert '--image "$IMAGE"' in build["run"]


# --- the template's entry point, in the image's environment ---------------------------------------


def launcher_arguments() -> list[str]:
    """What the launcher passes the entry point: the job's parameters, then the job's options."""
    parameters = job()["parameters"]
    assert set(parameters) == set(PARAMETER_SAMPLES), "a parameter without a sample here"
    experiments = job()["additional_experiments"]
    return [
        *(f"--{name}={value}" for name, value in PARAMETER_SAMPLES.items()),
        "--project=bqingest-dev",
        "--region=us-central1",
        "--job_name=bqingest-pipeline",
        "--staging_location=gs://bqingest-dev-bqingest-dataflow/staging",
        "--temp_location=gs://bqingest-dev-bqingest-dataflow/temp",
        "--service_account_email=bqingest-pipeline@bqingest-dev.iam.gserviceaccount.com",
        f"--sdk_container_image={PIPELINE_IMAGE}",
        *(f"--experiments={experiment}" for experiment in experiments),
        "--enable_streaming_engine",
        "--no_use_public_ips",
        "--max_num_workers=3",
        "--worker_machine_type=n1-standard-2",
    ]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first run on a machine builds the environment from PyPI
def test_the_template_builds_the_pipeline_in_the_images_environment(tmp_path: Path) -> None:
    """dataflow/main.py, run as the launcher runs it, in a virtualenv built from constraints.txt
    with the core and pipeline requirements only, on the image's Python minor version: it builds
    the streaming graph for Dataflow (every step pickled) and would submit it, nothing more."""
    python = pipeline_environment.environment()
    result = subprocess.run(
        [str(python), str(LAUNCH_SCRIPT), str(ENTRY_POINT), *launcher_arguments()],
        cwd=tmp_path,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "PYTHONPATH": f"{dc.REPO / 'src'}{os.pathsep}{dc.REPO}",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["runner"] == "DataflowRunner"
    assert report["streaming"] is True
    assert report["transforms"] == ["ReadFromPubSub", "ParseAndValidate", "WriteToBigQuery"]
    assert report["proto_transforms"] > 3
    assert report["project"] == "bqingest-dev"
    assert report["sdk_container_image"] == PIPELINE_IMAGE
    assert "streaming_mode_at_least_once" in report["experiments"]
    assert report["unknown_arguments"] == []
