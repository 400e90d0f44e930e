"""Static checks of delivery: the GitHub workflows, the composite action, the Dockerfiles, the
package's extras, and the ties between the deployment workflow and Terraform.

No Docker engine and no GitHub runner exist here, so the workflows are checked against GitHub's
schema and by zizmor, every Dockerfile by hadolint, and the parts that can run here (the
workflow's own shell scripts, the Dockerfile's commands, the dependency resolution of each
image) are run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from bqingest.config import LocalSettings
from tests.static import delivery_config as dc
from tests.static import terraform_config as tf
from tests.static.test_ci_scripts import change, plan_json
from tests.support import free_port

DEPLOYMENT = dc.WORKFLOWS / "deployment.yml"
TESTING = dc.WORKFLOWS / "testing.yml"
TERRAFORM_PLAN = dc.WORKFLOWS / "terraform.yml"
GCP_ACTION = dc.ACTIONS / "gcp-terraform" / "action.yml"
DOCKERFILE = dc.REPO / "Dockerfile"
ENV_ROOTS = [tf.ROOT]
DATAFLOW_JOB_ADDRESS = "module.dataflow.google_dataflow_flex_template_job.pipeline"
# Heavy or local-only packages that the API image must not carry.
NOT_IN_API_IMAGE = {"apache-beam", "bqemulator", "duckdb", "pytest", "mypy", "ruff"}
NOT_IN_PIPELINE_IMAGE = {"fastapi", "uvicorn", "bqemulator", "duckdb", "pytest"}


def workflow_ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(dc.REPO)) for p in paths]


def all_workflow_text() -> str:
    return "\n".join(p.read_text() for p in dc.workflow_files() + dc.action_files())


def run_tool(*args: str | Path, cwd: Path = dc.REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=180, check=False, cwd=cwd
    )


def test_the_delivery_files_exist() -> None:
    names = {p.name for p in dc.workflow_files()}
    assert {"testing.yml", "deployment.yml", "terraform.yml"} <= names
    assert GCP_ACTION.is_file()
    assert DOCKERFILE in dc.dockerfiles()


# --- GitHub's schema, zizmor, hadolint ------------------------------------------------------------


@pytest.mark.parametrize("path", dc.workflow_files(), ids=workflow_ids(dc.workflow_files()))
def test_workflow_validates_against_githubs_schema(path: Path) -> None:
    checker = dc.tool("check-jsonschema")
    result = run_tool(checker, "--builtin-schema", "vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", dc.action_files(), ids=workflow_ids(dc.action_files()))
def test_composite_action_validates_against_githubs_schema(path: Path) -> None:
    checker = dc.tool("check-jsonschema")
    result = run_tool(checker, "--builtin-schema", "vendor.github-actions", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_refuses_an_invalid_workflow(tmp_path: Path) -> None:
    """The schema check above can fail: a job without runs-on is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  build:\n    steps:\n      - run: echo hi\n")
    result = run_tool(
        dc.tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", bad
    )
    assert result.returncode != 0


def zizmor_findings(target: Path) -> list[dict[str, Any]]:
    zizmor = dc.tool("zizmor")
    result = run_tool(
        zizmor,
        "--offline",
        "--no-exit-codes",
        "--min-severity",
        "medium",
        "--format",
        "json",
        target,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), f"zizmor printed nothing: {result.stderr[-2000:]}"
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    return findings


def test_zizmor_finds_nothing_of_medium_severity_or_above() -> None:
    findings = zizmor_findings(dc.REPO / ".github")
    described = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']} "
        f"at {[loc['symbolic']['key'] for loc in f['locations']]}"
        for f in findings
    ]
    assert not findings, "\n".join(described)


def test_zizmor_finds_template_injection(tmp_path: Path) -> None:
    """The zizmor check above can fail: an expression from the event in a script is found."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request_target\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    idents = {finding["ident"] for finding in zizmor_findings(tmp_path / ".github")}
    assert "template-injection" in idents


@pytest.mark.parametrize("path", dc.dockerfiles(), ids=workflow_ids(dc.dockerfiles()))
def test_hadolint_passes(path: Path) -> None:
    result = run_tool(dc.tool("hadolint"), path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_finds_an_unpinned_base_image(tmp_path: Path) -> None:
    """The hadolint check above can fail."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = run_tool(dc.tool("hadolint"), bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout


# --- workflow hygiene -----------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    seen: dict[str, set[str]] = {}
    references = dc.uses_references()
    assert references, "no uses: found: the reader is broken"
    for use in references:
        if use.ref.startswith("./"):
            assert dc.local_action(use.ref) is not None or use.ref.startswith(
                "./.github/workflows/"
            ), use.line
            continue
        match = dc.PINNED.match(use.ref)
        assert match, f"{use.file.name}: not pinned to a 40-hex commit: {use.line.strip()}"
        assert re.search(r"#\s*v\d+(\.\d+){2}\b", use.line), (
            f"{use.file.name}: say the version in a comment: {use.line.strip()}"
        )
        seen.setdefault(match.group("action"), set()).add(match.group("sha"))
    mixed = {action: shas for action, shas in seen.items() if len(shas) > 1}
    assert not mixed, f"one action, several commits: {mixed}"


def test_default_permissions_are_read_only() -> None:
    for path in dc.workflow_files():
        assert dc.load_yaml(path).get("permissions") == {"contents": "read"}, path.name


def test_every_job_has_a_timeout() -> None:
    for path, name, job in dc.jobs():
        if "uses" in job:  # a reusable workflow: GitHub forbids a timeout here; its jobs have one
            called = dc.REPO / job["uses"].removeprefix("./")
            assert all("timeout-minutes" in j for j in dc.load_yaml(called)["jobs"].values())
            continue
        minutes = job.get("timeout-minutes")
        assert isinstance(minutes, int) and 0 < minutes <= 180, f"{path.name}:{name}"


def test_id_token_write_exactly_where_a_job_authenticates() -> None:
    authenticating = []
    for path, name, job in dc.jobs():
        assert "id-token" not in dc.load_yaml(path)["permissions"], path.name
        authenticates = any(dc.step_authenticates(s) for s in job.get("steps", []))
        granted = (job.get("permissions") or {}).get("id-token") == "write"
        assert authenticates == granted, f"{path.name}:{name}: auth={authenticates}"
        if authenticates:
            authenticating.append((path.name, name))
    assert ("deployment.yml", "deploy") in authenticating
    assert ("terraform.yml", "plan") in authenticating


def test_every_authenticating_job_runs_in_a_github_environment() -> None:
    """The identity provider accepts only subjects repo:OWNER/NAME:environment:ENV."""
    for path, name, job in dc.jobs():
        if any(dc.step_authenticates(s) for s in job.get("steps", [])):
            environment = job.get("environment")
            name_expression = (
                environment.get("name") if isinstance(environment, dict) else environment
            )
            assert name_expression, f"{path.name}:{name} authenticates without environment:"


def test_deployments_and_plans_are_serialised_per_environment() -> None:
    deploy = dc.load_yaml(DEPLOYMENT)["jobs"]["deploy"]
    assert deploy["concurrency"]["group"] == "deploy-${{ needs.target.outputs.environment }}"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert deploy["environment"]["name"] == "${{ needs.target.outputs.environment }}"
    plan = dc.load_yaml(TERRAFORM_PLAN)["jobs"]["plan"]
    assert "${{ matrix.environment }}" in plan["concurrency"]["group"]
    assert plan["environment"] == "${{ matrix.environment }}"
    # A called workflow sharing its caller's concurrency group would deadlock.
    testing_group = dc.load_yaml(TESTING)["concurrency"]["group"]
    assert testing_group.startswith("testing-")


def test_no_expression_is_interpolated_into_a_script() -> None:
    """Every value reaches a script through env:, so no expression can inject shell code."""
    scripts = dc.run_scripts()
    assert len(scripts) > 10
    for path, step, script in scripts:
        assert "${{" not in script, f"{path.name}: step {step!r} interpolates an expression"


def test_no_key_or_credentials_json_anywhere() -> None:
    text = all_workflow_text()
    assert "credentials_json" not in text
    secrets = set(re.findall(r"secrets\.([A-Z0-9_]+)", text))
    assert secrets == {"SMOKE_API_KEY"}, secrets


def test_checkouts_do_not_keep_the_token() -> None:
    for path, name, job in dc.jobs():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path}:{name}"


# --- testing.yml ----------------------------------------------------------------------------------


def test_testing_runs_make_test_with_java_the_emulator_and_a_junit_report() -> None:
    test_job = dc.load_yaml(TESTING)["jobs"]["test"]
    uses = {str(s.get("uses", "")).split("@")[0]: s for s in test_job["steps"]}
    assert uses["actions/setup-java"]["with"]["java-version"] == "17"
    components = uses["google-github-actions/setup-gcloud"]["with"]["install_components"]
    assert "pubsub-emulator" in components.split(",")
    runs = [s["run"] for s in test_job["steps"] if "run" in s]
    assert any(r.startswith("make test") and "--junitxml=reports/junit.xml" in r for r in runs)
    assert any(".ci/junit_summary.py reports/junit.xml" in r for r in runs)
    assert any(
        r == "make lint"
        for j in dc.load_yaml(TESTING)["jobs"].values()
        for r in (s.get("run") for s in j["steps"])
    )


def test_pip_cache_is_keyed_on_the_lock_files() -> None:
    workflow = dc.load_yaml(TESTING)
    keys = workflow["env"]["PIP_CACHE_KEYS"].split()
    assert keys == ["constraints.txt", "requirements/tools.txt"]
    for key in keys:
        assert (dc.REPO / key).is_file()
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/setup-python@"):
                assert step["with"]["cache"] == "pip"
                assert step["with"]["cache-dependency-path"] == "${{ env.PIP_CACHE_KEYS }}"


def test_static_job_validates_every_terraform_root_and_checks_every_dockerfile() -> None:
    steps = dc.load_yaml(TESTING)["jobs"]["static"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    assert "terraform fmt -check -recursive" in script
    assert "for root in terraform/ terraform/bootstrap/" in script
    assert "init -backend=false" in script and "validate" in script
    assert ".venv-tools/bin/checkov --directory terraform" in script
    assert "zizmor --offline --min-severity medium" in script
    hadolint = next(s["run"] for s in steps if "hadolint" in s.get("run", ""))
    listed = set(run_tool("bash", "-c", hadolint.split("|")[0]).stdout.split("\0"))
    found = [str(p.relative_to(dc.REPO)) for p in dc.dockerfiles()]
    committed = set(run_tool("git", "ls-files", "--", *found).stdout.split())
    assert "Dockerfile" in committed
    assert committed <= listed, f"hadolint in CI misses {committed - listed}"


# --- deployment.yml -------------------------------------------------------------------------------


def run_step_script(script: str, env: dict[str, str], tmp_path: Path) -> tuple[int, str, str]:
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(outputs), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, outputs.read_text()


@pytest.mark.parametrize(
    ("branch", "environment"), [("dev", "dev"), ("staging", "staging"), ("main", "prod")]
)
def test_branch_maps_to_its_environment(tmp_path: Path, branch: str, environment: str) -> None:
    assert branch in dc.load_yaml(DEPLOYMENT)["on"]["push"]["branches"]
    script = dc.step_named(DEPLOYMENT, "target", "Branch to environment")["run"]
    code, _, outputs = run_step_script(script, {"BRANCH": branch}, tmp_path)
    assert code == 0
    assert outputs == f"environment={environment}\n"
    assert environment in tf.ENVIRONMENTS


def test_other_branches_deploy_nowhere(tmp_path: Path) -> None:
    script = dc.step_named(DEPLOYMENT, "target", "Branch to environment")["run"]
    code, printed, outputs = run_step_script(script, {"BRANCH": "feature/x"}, tmp_path)
    assert code == 1
    assert "deploys nowhere" in printed
    assert outputs == ""


def test_deployment_is_tested_first() -> None:
    jobs = dc.load_yaml(DEPLOYMENT)["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/testing.yml"
    assert "workflow_call" in dc.load_yaml(TESTING)["on"]
    assert set(jobs["build"]["needs"]) == {"target", "test"}
    assert set(jobs["plan"]["needs"]) == {"target", "test", "build"}
    assert set(jobs["deploy"]["needs"]) == {"target", "plan"}
    # build is skipped outside dev: the plan still needs the tests to have passed.
    assert "needs.test.result == 'success'" in jobs["plan"]["if"]
    # The deployment branches are tested by the deployment workflow, not twice.
    assert dc.load_yaml(TESTING)["on"]["push"]["branches-ignore"] == ["dev", "staging", "main"]


def test_environment_variable_check_names_what_is_missing(tmp_path: Path) -> None:
    check = next(s for s in dc.steps_of(GCP_ACTION) if s.get("id") == "check")
    script = check["run"]
    complete = {
        "ENVIRONMENT": "dev",
        "GCP_PROJECT_ID": "bqingest-dev",
        "GCP_REGION": "us-central1",
        "GCP_WORKLOAD_IDENTITY_PROVIDER": (
            "projects/1/locations/global/workloadIdentityPools/github/providers/github-actions"
        ),
        "SERVICE_ACCOUNT": "bqingest-planner@bqingest-dev.iam.gserviceaccount.com",
        "SERVICE_ACCOUNT_VARIABLE": "GCP_PLANNER_SERVICE_ACCOUNT",
        "TF_STATE_BUCKET": "acme-bqingest-tfstate",
    }
    code, _, outputs = run_step_script(script, complete, tmp_path)
    assert (code, outputs) == (0, "terraform-root=terraform\nvar-file=envs/dev.tfvars\n")
    assert (tf.ROOT / "envs" / "dev.tfvars").is_file()

    missing = {**complete, "GCP_REGION": "", "TF_STATE_BUCKET": "", "SERVICE_ACCOUNT": ""}
    code, printed, outputs = run_step_script(script, missing, tmp_path)
    assert code == 1
    assert "GCP_REGION GCP_PLANNER_SERVICE_ACCOUNT TF_STATE_BUCKET" in printed and outputs == ""

    code, printed, _ = run_step_script(script, {**complete, "ENVIRONMENT": "../x"}, tmp_path)
    assert code == 1 and "unknown environment" in printed


def test_each_workflow_acts_as_its_own_identity() -> None:
    """Pull requests' plans run as the read-only planner, deployments as the deployer; the
    composite action gets every input it checks."""
    action = dc.load_yaml(GCP_ACTION)
    required = {name for name, spec in action["inputs"].items() if spec.get("required")}
    accounts = {}
    for path in (DEPLOYMENT, TERRAFORM_PLAN):
        for name, job in dc.load_yaml(path)["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses") == "./.github/actions/gcp-terraform":
                    assert required <= set(step["with"]) <= set(action["inputs"]), path.name
                    assert step["with"]["project-id"] == "${{ vars.GCP_PROJECT_ID }}"
                    variable = step["with"]["service-account-variable"]
                    assert step["with"]["service-account"] == f"${{{{ vars.{variable} }}}}"
                    accounts[f"{path.name}:{name}"] = variable
    assert accounts == {
        "deployment.yml:build": "GCP_DEPLOYER_SERVICE_ACCOUNT",
        "deployment.yml:plan": "GCP_PLANNER_SERVICE_ACCOUNT",
        "deployment.yml:deploy": "GCP_DEPLOYER_SERVICE_ACCOUNT",
        "terraform.yml:plan": "GCP_PLANNER_SERVICE_ACCOUNT",
    }
    outputs = tf.load(str(tf.ROOT)).outputs
    assert {"deployer_service_account", "planner_service_account"} <= set(outputs)


# --- state locks, plan list, runtimes (defect 7) --------------------------------------------------


def test_deployments_wait_for_the_state_lock_and_plans_take_none() -> None:
    """The deployment's plan and apply wait for a lock someone else holds instead of failing;
    pull requests' plans are read-only and take no lock at all."""
    for path, job, want, least in (
        (DEPLOYMENT, "deploy", "-lock-timeout=", 3),
        (DEPLOYMENT, "plan", "-lock=false", 1),
        (TERRAFORM_PLAN, "plan", "-lock=false", 1),
    ):
        commands = [
            line
            for step in dc.load_yaml(path)["jobs"][job]["steps"]
            for line in str(step.get("run", "")).replace("\\\n", " ").splitlines()
            if re.search(r"terraform -chdir=\S+ (plan|apply) ", line)
        ]
        assert len(commands) >= least, commands
        for command in commands:
            assert want in command, f"{path.name}: {command}"


def test_pull_requests_plan_the_unprotected_environments_by_default() -> None:
    """Under the recommended protection rules prod admits only main: a pull request's job in
    prod would wait for a reviewer or be refused, so prod is not in the default list."""
    matrix = dc.load_yaml(TERRAFORM_PLAN)["jobs"]["plan"]["strategy"]["matrix"]["environment"]
    default = json.loads(re.search(r"\|\| '(\[.*\])'", matrix).group(1))
    assert default == ["dev", "staging"]


# Oldest release of each action that runs on Node 24 (GitHub retires Node 20), read from the
# action.yml of the pinned commit.
NODE_24_SINCE = {
    "hashicorp/setup-terraform": 4,
    "google-github-actions/setup-gcloud": 3,
    "actions/setup-python": 6,
}


def test_actions_run_on_a_supported_node() -> None:
    for use in dc.uses_references():
        action = use.ref.split("@")[0]
        if action in NODE_24_SINCE:
            major = int(re.search(r"#\s*v(\d+)", use.line).group(1))
            assert major >= NODE_24_SINCE[action], f"{use.file.name}: {use.line.strip()}"


# --- the deployment and Terraform agree -----------------------------------------------------------


def tf_vars_set_by(path: Path) -> set[str]:
    return set(re.findall(r"TF_VAR_([a-z0-9_]+)=", path.read_text()))


def test_terraform_variables_the_workflows_set_exist_in_every_environment() -> None:
    deploy_vars = tf_vars_set_by(DEPLOYMENT)
    assert deploy_vars == {"api_image", "pipeline_image", "dataflow_container_spec_gcs_path"}
    assert tf_vars_set_by(TERRAFORM_PLAN) <= deploy_vars
    for root in ENV_ROOTS:
        declared = tf.load(str(root)).variables
        assert deploy_vars <= set(declared), root.name
        # The images are required: every plan and apply must be given them.
        assert not declared["api_image"].has_default
        assert not declared["pipeline_image"].has_default


def test_terraform_outputs_the_workflows_read_exist_in_every_environment() -> None:
    read = set(re.findall(r"output -raw ([a-z0-9_]+)", all_workflow_text()))
    assert read >= {"api_url", "api_invoker_service_account", "topic_id"}
    for root in ENV_ROOTS:
        assert read <= set(tf.load(str(root)).outputs), root.name


def test_registry_and_bucket_names_come_from_terraform_outputs() -> None:
    """No workflow rebuilds a registry or bucket name from variables and a hard-coded repository:
    a renamed repository (artifact_registry_repository) or bucket would push and write where
    nothing reads."""
    for path in (DEPLOYMENT, TERRAFORM_PLAN):
        text = path.read_text()
        assert "ARTIFACT_REPOSITORY" not in text, path.name
        assert "-docker.pkg.dev/" not in text, path.name
        assert "-bqingest-dataflow" not in text, path.name
        assert "output -raw artifact_registry_repository_url" in text, path.name
    refs = dc.step_named(DEPLOYMENT, "plan", "Image and template references of this commit")
    assert "output -raw dataflow_bucket" in refs["run"]
    assert "output -raw artifact_registry_repository_url" in refs["run"]


STUB_OUTPUTS = """#!/usr/bin/env bash
case "$*" in
  *"output -raw artifact_registry_repository_url") echo -n "$REGISTRY" ;;
  *"output -raw dataflow_bucket") echo -n "$BUCKET" ;;
  *) exit 1 ;;
esac
"""
# gcloud artifacts docker images describe IMAGE --format=...: the digest of an image listed in
# $KNOWN_IMAGES (IMAGE=DIGEST, space-separated), else not found.
STUB_DESCRIBE = """#!/usr/bin/env bash
echo "gcloud $*" >> "$CALLS"
[ "$1 $2 $3 $4" = "artifacts docker images describe" ] || exit 1
for known in $KNOWN_IMAGES; do
  if [ "${known%=*}" = "$5" ]; then echo "${known#*=}"; exit 0; fi
done
echo "ERROR: (gcloud.artifacts.docker.images.describe) Image not found" >&2
exit 1
"""
SHA = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "us-central1-docker.pkg.dev/bqingest-staging/images"
SOURCE_REGISTRY = "us-central1-docker.pkg.dev/bqingest-dev/images"
BUCKET = "bqingest-staging-bqingest-dataflow"
API_DIGEST = "sha256:" + "a" * 64
PIPELINE_DIGEST = "sha256:" + "b" * 64


def source_tree() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD^{tree}"], cwd=dc.REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def plan_references(
    tmp_path: Path, environment: str, **extra: str
) -> tuple[int, str, dict[str, str], dict[str, str]]:
    """Run the plan job's references step with stand-in terraform and gcloud: exit code, what it
    printed, its step outputs and the TF_VAR_* it exported."""
    script = dc.step_named(DEPLOYMENT, "plan", "Image and template references of this commit")[
        "run"
    ]
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name, text in (("terraform", STUB_OUTPUTS), ("gcloud", STUB_DESCRIBE)):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    env_file = tmp_path / "github_env"
    env_file.write_text("")
    env = {
        "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
        "TF_ROOT": "terraform",
        "REGISTRY": REGISTRY,
        "BUCKET": BUCKET,
        "ENVIRONMENT": environment,
        "GITHUB_SHA": SHA,
        "GITHUB_ENV": str(env_file),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "CALLS": str(tmp_path / "calls.log"),
        "KNOWN_IMAGES": "",
        "BUILT_API_IMAGE": "",
        "BUILT_PIPELINE_IMAGE": "",
        "IMAGE_SOURCE_REGISTRY": "",
        **extra,
    }
    code, printed, outputs = run_step_script(script, env, tmp_path)
    step_outputs = dict(line.split("=", 1) for line in outputs.splitlines() if "=" in line)
    tf_vars = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    return code, printed, step_outputs, tf_vars


def test_the_references_the_deployment_computes_pass_terraforms_checks(tmp_path: Path) -> None:
    built = {
        "BUILT_API_IMAGE": f"{REGISTRY}/api@{API_DIGEST}",
        "BUILT_PIPELINE_IMAGE": f"{REGISTRY}/pipeline@{PIPELINE_DIGEST}",
    }
    code, printed, outputs, values = plan_references(tmp_path, "dev", **built)
    assert code == 0, printed
    # dev plans with the images its build job pushed, by digest.
    assert values["TF_VAR_api_image"] == built["BUILT_API_IMAGE"]
    assert values["TF_VAR_pipeline_image"] == built["BUILT_PIPELINE_IMAGE"]
    spec = values["TF_VAR_dataflow_container_spec_gcs_path"]
    assert spec == f"gs://{BUCKET}/templates/bqingest-pipeline-{SHA}.json"
    # ... and the path passes the dataflow module's validation of container_spec_gcs_path.
    condition = next(
        block["container_spec_gcs_path"]["validation"][0]["condition"]
        for block in tf.parse(tf.MODULES / "dataflow" / "variables.tf")["variable"]
        if "container_spec_gcs_path" in block
    )
    pattern = re.search(r'regex\("(.*)", var\.', condition)
    assert pattern
    assert re.search(pattern.group(1).replace("\\\\", "\\"), spec)
    assert outputs["api_image"] == built["BUILT_API_IMAGE"]
    assert outputs["api_source"] == "" and outputs["pipeline_source"] == ""
    # Never deployed (no outputs): refused with a pointer to the first apply.
    code, printed, _, _ = plan_references(tmp_path, "dev", REGISTRY="", **built)
    assert code == 1 and "first apply" in printed


@pytest.mark.parametrize(
    "built",
    [
        f"{REGISTRY}/api:{SHA}",  # a tag, not a digest
        f"{SOURCE_REGISTRY}/api@{API_DIGEST}",  # another environment's registry
        "",  # the build job gave nothing
    ],
)
def test_the_plan_refuses_an_image_not_by_digest_in_its_registry(
    tmp_path: Path, built: str
) -> None:
    code, printed, _, values = plan_references(
        tmp_path,
        "dev",
        BUILT_API_IMAGE=built,
        BUILT_PIPELINE_IMAGE=f"{REGISTRY}/pipeline@{PIPELINE_DIGEST}",
    )
    assert code == 1 and "by digest" in printed
    assert "TF_VAR_api_image" not in values


def test_staging_plans_the_digest_dev_built_and_promotes_it(tmp_path: Path) -> None:
    tree = source_tree()
    known = (
        f"{SOURCE_REGISTRY}/api:{tree}={API_DIGEST} "
        f"{SOURCE_REGISTRY}/pipeline:{tree}={PIPELINE_DIGEST}"
    )
    code, printed, outputs, values = plan_references(
        tmp_path, "staging", KNOWN_IMAGES=known, IMAGE_SOURCE_REGISTRY=SOURCE_REGISTRY
    )
    assert code == 0, printed
    # This environment's registry, the source's digest: what the copy will put there.
    assert values["TF_VAR_api_image"] == f"{REGISTRY}/api@{API_DIGEST}"
    assert values["TF_VAR_pipeline_image"] == f"{REGISTRY}/pipeline@{PIPELINE_DIGEST}"
    assert outputs["api_source"] == f"{SOURCE_REGISTRY}/api@{API_DIGEST}"
    assert outputs["pipeline_source"] == f"{SOURCE_REGISTRY}/pipeline@{PIPELINE_DIGEST}"
    # Its own registry is asked first: an image promoted earlier (a re-run, a rollback) is used
    # as it is, even if the source registry's cleanup deleted it since.
    known = f"{REGISTRY}/api:{tree}={API_DIGEST} {REGISTRY}/pipeline:{tree}={PIPELINE_DIGEST}"
    code, printed, outputs, values = plan_references(
        tmp_path, "prod", KNOWN_IMAGES=known, IMAGE_SOURCE_REGISTRY=SOURCE_REGISTRY
    )
    assert code == 0, printed
    assert values["TF_VAR_api_image"] == f"{REGISTRY}/api@{API_DIGEST}"
    assert outputs["api_source"] == "" and outputs["pipeline_source"] == ""


def test_a_tree_the_previous_environment_never_built_is_refused(tmp_path: Path) -> None:
    code, printed, _, values = plan_references(
        tmp_path, "prod", IMAGE_SOURCE_REGISTRY=SOURCE_REGISTRY
    )
    assert code == 1 and "first environment only" in printed
    assert not values
    # Without the previous environment's registry there is nothing to promote from.
    code, printed, _, _ = plan_references(tmp_path, "staging")
    assert code == 1 and "IMAGE_SOURCE_REGISTRY" in printed


# --- one build per source tree, promoted by digest ------------------------------------------------


def test_images_are_built_in_exactly_one_job_and_only_in_dev() -> None:
    jobs = dc.load_yaml(DEPLOYMENT)["jobs"]
    building = sorted(
        name
        for name, job in jobs.items()
        for step in job.get("steps", [])
        if re.search(r"\bdocker (?:buildx )?build\b|push_image\.sh", str(step.get("run", "")))
    )
    assert building == ["build", "build"], building  # the API image and the pipeline image
    assert jobs["build"]["if"] == "${{ needs.target.outputs.environment == 'dev' }}"
    # The only job that pushes what it built is the first environment's deployer.
    assert jobs["build"]["environment"] == "${{ needs.target.outputs.environment }}"


def test_later_environments_copy_the_planned_digest_and_build_nothing() -> None:
    jobs = dc.load_yaml(DEPLOYMENT)["jobs"]
    deploy_runs = "\n".join(str(s.get("run", "")) for s in jobs["deploy"]["steps"])
    assert "push_image.sh" not in deploy_runs and not re.search(
        r"docker (buildx )?build", deploy_runs
    )
    promote = dc.step_named(DEPLOYMENT, "deploy", "Promote the images by digest")
    assert ".ci/promote_image.sh" in promote["run"]
    assert promote["env"]["API_SOURCE"] == "${{ needs.plan.outputs.api-source }}"
    assert promote["env"]["PIPELINE_SOURCE"] == "${{ needs.plan.outputs.pipeline-source }}"
    # The copy keeps the digest (or fails), and the script checks the digest that arrived.
    script = (dc.REPO / ".ci" / "promote_image.sh").read_text()
    assert 'skopeo copy --all --preserve-digests "docker://${source}"' in script
    # Before the apply, and before the spec that names the pipeline image is built.
    names = [s.get("name") for s in jobs["deploy"]["steps"]]
    assert names.index("Promote the images by digest") < names.index("Build the Flex Template spec")
    assert names.index("Promote the images by digest") < names.index("terraform apply")


def test_the_digest_travels_from_the_build_through_the_plan_to_the_deploy() -> None:
    jobs = dc.load_yaml(DEPLOYMENT)["jobs"]
    assert jobs["build"]["outputs"] == {
        "api-image": "${{ steps.api.outputs.image }}",
        "pipeline-image": "${{ steps.pipeline.outputs.image }}",
    }
    refs = dc.step_named(DEPLOYMENT, "plan", "Image and template references of this commit")
    assert refs["env"]["BUILT_API_IMAGE"] == "${{ needs.build.outputs.api-image }}"
    assert refs["env"]["BUILT_PIPELINE_IMAGE"] == "${{ needs.build.outputs.pipeline-image }}"
    plan_outputs = jobs["plan"]["outputs"]
    for name in ("api-image", "api-source", "pipeline-image", "pipeline-source", "spec"):
        assert plan_outputs[name] == f"${{{{ steps.refs.outputs.{name.replace('-', '_')} }}}}"
    deploy_refs = dc.step_named(
        DEPLOYMENT, "deploy", "Image and template references of this commit"
    )
    assert deploy_refs["env"] == {
        "API_IMAGE": "${{ needs.plan.outputs.api-image }}",
        "PIPELINE_IMAGE": "${{ needs.plan.outputs.pipeline-image }}",
        "SPEC": "${{ needs.plan.outputs.spec }}",
    }
    # build is skipped outside dev, which must skip neither the plan nor the deploy.
    assert (
        "!cancelled()" in jobs["plan"]["if"]
        and "needs.build.result == 'skipped'" in jobs["plan"]["if"]
    )
    assert jobs["deploy"]["if"] == "${{ !cancelled() && needs.plan.result == 'success' }}"


def test_every_deploy_step_names_images_by_digest(tmp_path: Path) -> None:
    """Terraform (Cloud Run, the Dataflow job's SDK container) and the Flex Template spec get the
    image by digest, never a tag a later push could move."""
    spec_step = dc.step_named(DEPLOYMENT, "deploy", "Build the Flex Template spec")
    assert spec_step["env"]["IMAGE"] == "${{ steps.refs.outputs.pipeline_image }}"
    assert '--image "$IMAGE"' in spec_step["run"]
    script = dc.step_named(DEPLOYMENT, "deploy", "Image and template references of this commit")[
        "run"
    ]
    env_file = tmp_path / "github_env"
    env = {
        "API_IMAGE": f"{REGISTRY}/api@{API_DIGEST}",
        "PIPELINE_IMAGE": f"{REGISTRY}/pipeline@{PIPELINE_DIGEST}",
        "SPEC": f"gs://{BUCKET}/templates/bqingest-pipeline-{SHA}.json",
        "GITHUB_ENV": str(env_file),
    }
    code, printed, outputs = run_step_script(script, env, tmp_path)
    assert code == 0, printed
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert values["TF_VAR_api_image"].endswith(f"@{API_DIGEST}")
    assert values["TF_VAR_pipeline_image"].endswith(f"@{PIPELINE_DIGEST}")
    assert f"pipeline_image={REGISTRY}/pipeline@{PIPELINE_DIGEST}" in outputs.splitlines()
    # A tag is refused before anything runs.
    env["PIPELINE_IMAGE"] = f"{REGISTRY}/pipeline:{SHA}"
    env_file.write_text("")
    code, printed, _ = run_step_script(script, env, tmp_path)
    assert code == 1 and "by digest" in printed and env_file.read_text() == ""
    # Nothing else in the deploy job names an image by tag.
    deploy = dc.load_yaml(DEPLOYMENT)["jobs"]["deploy"]
    for step in deploy["steps"]:
        assert ":${GITHUB_SHA}" not in str(step.get("run", "")), step.get("name")


def test_the_dataflow_job_the_deployment_replaces_is_terraforms() -> None:
    deploy_env = dc.load_yaml(DEPLOYMENT)["jobs"]["deploy"]["env"]
    assert deploy_env["DATAFLOW_JOB"] == DATAFLOW_JOB_ADDRESS
    module, resource_type, name = DATAFLOW_JOB_ADDRESS.removeprefix("module.").split(".")
    for root in ENV_ROOTS:
        config = tf.load(str(root))
        assert config.modules[module]["source"] == "./modules/dataflow"
    assert (resource_type, name) in tf.load(str(tf.MODULES / "dataflow")).resources
    report = (dc.REPO / ".ci" / "terraform_report.py").read_text()
    assert f'DATAFLOW_JOB = "{DATAFLOW_JOB_ADDRESS}"' in report
    assert ("google_cloud_run_v2_service", "api") in tf.load(
        str(tf.MODULES / "cloud_run_api")
    ).resources
    assert 'API_SERVICE = "module.cloud_run_api.google_cloud_run_v2_service.api"' in report


def test_flex_template_parameters_match_terraforms() -> None:
    metadata_path = dc.REPO / "dataflow" / "metadata.json"
    if not metadata_path.is_file():
        pytest.skip("dataflow/metadata.json comes with the pipeline (not on this branch yet)")
    metadata = json.loads(metadata_path.read_text())
    names = {parameter["name"] for parameter in metadata["parameters"]}
    job = tf.load(str(tf.MODULES / "dataflow")).resources[
        ("google_dataflow_flex_template_job", "pipeline")
    ]
    assert set(job["parameters"]) <= names


# --- the API image --------------------------------------------------------------------------------


def test_api_image_is_multi_stage_pinned_slim_python_311() -> None:
    instructions = dc.dockerfile_instructions(DOCKERFILE)
    args = dict(a.split("=", 1) for k, a in instructions if k == "ARG" and "=" in a)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}", args["PYTHON_IMAGE"])
    stages = [a for k, a in instructions if k == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]


def test_api_image_runs_unprivileged_without_build_tools() -> None:
    runtime = dc.final_stage(DOCKERFILE)
    users = [a for k, a in runtime if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    copies = [a for k, a in runtime if k == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]
    runs = " ".join(a for k, a in runtime if k == "RUN")
    for tool_name in ("gcc", "build-essential", "apt-get install", "curl", "wget"):
        assert tool_name not in runs
    assert "pip uninstall --yes --quiet pip setuptools wheel" in runs


def test_api_image_port_matches_settings_and_terraform() -> None:
    runtime = dc.final_stage(DOCKERFILE)
    exposed = [a for k, a in runtime if k == "EXPOSE"]
    port = LocalSettings.model_fields["api_port"].default
    container_port = tf.load(str(tf.MODULES / "cloud_run_api")).variables["container_port"]
    assert exposed == [str(port)] == [str(container_port.default)]
    env = " ".join(a for k, a in runtime if k == "ENV")
    assert f"BQINGEST_API_PORT={port}" in env
    assert "BQINGEST_API_HOST=0.0.0.0" in env


def image_commands() -> tuple[list[str], list[str], dict[str, str]]:
    """The image's CMD and HEALTHCHECK (exec form) and the ENV of its final stage."""
    runtime = dc.final_stage(DOCKERFILE)
    cmd = json.loads(next(a for k, a in runtime if k == "CMD"))
    healthcheck = next(a for k, a in runtime if k == "HEALTHCHECK")
    health = json.loads(healthcheck.split(" CMD ", 1)[1])
    env: dict[str, str] = {}
    for k, a in runtime:
        if k == "ENV":
            for pair in shlex.split(a):
                name, value = pair.split("=", 1)
                env[name] = value
    return cmd, health, env


def test_api_image_serves_the_app_factory_with_a_stdlib_healthcheck() -> None:
    cmd, health, env = image_commands()
    assert cmd[:2] == ["sh", "-c"]
    assert cmd[2].startswith("exec uvicorn --factory bqingest.api.main:create_app ")
    assert '--host "$BQINGEST_API_HOST"' in cmd[2]
    assert health[:2] == ["python", "-c"] and "/healthz" in health[2]
    assert "urllib.request" in health[2]
    assert {"UVICORN_WORKERS", "UVICORN_PROXY_HEADERS", "UVICORN_FORWARDED_ALLOW_IPS"} <= set(env)


@pytest.mark.parametrize(
    "where",
    [
        # docker compose: no PORT, BQINGEST_API_PORT says where to listen.
        "compose",
        # Cloud Run sets PORT (its container contract) and the API must listen there, whatever
        # BQINGEST_API_PORT says.
        "cloud-run",
    ],
)
def test_image_command_and_healthcheck_serve_the_api(tmp_path: Path, where: str) -> None:
    """The Dockerfile's CMD and HEALTHCHECK, run here with the same environment."""
    pytest.importorskip("bqingest.api.main", reason="the API is not on this branch yet")
    cmd, health, image_env = image_commands()
    port = free_port()
    env = {
        **os.environ,
        **image_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BQINGEST_API_HOST": "127.0.0.1",
        "BQINGEST_API_PORT": str(port),
        "BQINGEST_DATA_DIR": str(tmp_path),
        "UVICORN_WORKERS": "1",
    }
    env.pop("PORT", None)
    if where == "cloud-run":
        env["BQINGEST_API_PORT"] = str(free_port())
        env["PORT"] = str(port)
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            cmd, env=env, cwd=tmp_path, stdout=output, stderr=output, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(health, env=env, capture_output=True, timeout=10, check=False)
            listening = subprocess.run(
                [sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"],  # noqa: E501
                capture_output=True, timeout=10, check=False,
            )  # fmt: skip
            if probe.returncode == 0 and listening.returncode == 0:
                break
            assert server.poll() is None, "the image's command exited"
            assert time.monotonic() < deadline, probe.stderr.decode()[-2000:]
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=20)
    # uvicorn shuts the app down, then re-raises SIGTERM, so the exit status names the signal.
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()[-2000:]
    assert "Application shutdown complete" in log.read_text()


def test_dockerfile_lists_exactly_core_and_the_api_extra(tmp_path: Path) -> None:
    """The list the API image's lock file is compiled from (make lock): the real pyproject.toml's
    core dependencies and api extra, no Beam."""
    (tmp_path / "pyproject.toml").write_text((dc.REPO / "pyproject.toml").read_text())
    result = subprocess.run(
        [sys.executable, str(dc.REPO / "docker" / "extra_requirements.py"), "api"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    import tomllib

    project = tomllib.loads((dc.REPO / "pyproject.toml").read_text())["project"]
    listed = result.stdout.split()
    assert listed == project["dependencies"] + project["optional-dependencies"]["api"]
    assert not any(r.startswith("apache-beam") for r in listed)


_LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\]+)")


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of --hash) of a pip-compile --generate-hashes file."""
    found: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = _LOCKED.match(line)
        if match:
            current = match.group(1).lower().replace("_", "-")
            found[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
    return found


@pytest.mark.parametrize(
    ("extra", "dockerfile"),
    [("api", DOCKERFILE), ("pipeline", dc.REPO / "dataflow" / "Dockerfile")],
)
def test_images_install_their_extra_from_a_hashed_lock(
    tmp_path: Path, extra: str, dockerfile: Path
) -> None:
    """Every distribution an image installs is pinned and checked against its sha256: the lock
    file is exactly what pip resolves for bqingest[extra] under constraints.txt, and the
    Dockerfile installs it with --require-hashes, nothing from version ranges."""
    lock = locked(dc.REPO / "requirements" / f"{extra}.txt")
    assert lock and all(hashes for _, hashes in lock.values()), "a requirement without --hash"
    resolved = {canonical(n): v for n, v in resolve(extra, tmp_path).items() if n != "bqingest"}
    assert {canonical(name): version for name, (version, _) in lock.items()} == resolved
    runs = " ".join(
        " ".join(a.split()) for k, a in dc.dockerfile_instructions(dockerfile) if k == "RUN"
    )
    assert f"--require-hashes --no-deps --requirement {extra}.txt" in runs
    assert "--require-hashes --no-deps --requirement build.txt" in runs
    assert "--constraint" not in runs and "extra_requirements.py" not in runs
    # The package itself is built with the pinned backend, nothing fetched for the build.
    assert "--no-deps --no-build-isolation" in runs


def test_the_build_backend_is_pinned_and_hashed() -> None:
    import tomllib

    requires = tomllib.loads((dc.REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    assert requires and all(re.fullmatch(r"[A-Za-z0-9._-]+==[\w.]+", r) for r in requires), requires
    build = locked(dc.REPO / "requirements" / "build.txt")
    pinned = {r.split("==")[0].lower(): r.split("==")[1] for r in requires}
    assert {name: version for name, (version, _) in build.items()} == pinned
    assert all(hashes for _, hashes in build.values())


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps path out of the build context (last matching rule wins)."""
    parts = path.split("/")
    # A rule that matches a directory matches everything in it.
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for raw in (dc.REPO / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.removeprefix("!").rstrip("/")
        if any(fnmatch(prefix, pattern) for prefix in prefixes):
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "src/bqingest/cli.py",
        "dataflow/main.py",
        "docker/extra_requirements.py",
    ],
)
def test_build_context_holds_what_the_images_are_built_from(path: str) -> None:
    assert not dockerignore_excludes(path)


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".venv-tools/bin/checkov",
        ".env",
        ".bqingest/bqemulator.duckdb",
        ".git/config",
        "gha-creds-0123456789abcdef.json",
        "terraform/terraform.tfstate",
        "tests/conftest.py",
        "src/bqingest/__pycache__/cli.cpython-311.pyc",
        "src/bqingest.egg-info/PKG-INFO",
    ],
)
def test_build_context_leaves_out_local_state_and_credentials(path: str) -> None:
    assert dockerignore_excludes(path)


@pytest.mark.parametrize("dockerfile", dc.dockerfiles(), ids=lambda p: str(p.relative_to(dc.REPO)))
def test_dockerfile_copies_only_what_the_context_holds(dockerfile: Path) -> None:
    """Every image builds from the repository root: each COPY source must survive .dockerignore
    and exist (a Dockerfile that copies an ignored file fails only at `docker build`)."""
    for key, arguments in dc.dockerfile_instructions(dockerfile):
        if key == "COPY" and not arguments.startswith("--from"):
            for source in arguments.split()[:-1]:
                assert not dockerignore_excludes(source.rstrip("/")), (dockerfile, source)
                assert (dc.REPO / source).exists(), (dockerfile, source)


# --- the package's extras -------------------------------------------------------------------------


def resolve(extra: str, tmp_path: Path) -> dict[str, str]:
    """What pip would install for bqingest[extra] with the constraints: name -> version."""
    report = tmp_path / f"{extra}.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--report", str(report), "--constraint", "constraints.txt", f".[{extra}]",
        ],
        cwd=dc.REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    installs = json.loads(report.read_text())["install"]
    return {
        i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in installs
    }


def constraints() -> dict[str, str]:
    pins = {}
    for line in (dc.REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


@pytest.mark.parametrize(
    ("extra", "wanted", "unwanted"),
    [
        ("api", {"fastapi", "uvicorn", "google-cloud-bigquery"}, NOT_IN_API_IMAGE),
        ("pipeline", {"apache-beam", "google-cloud-pubsub"}, NOT_IN_PIPELINE_IMAGE),
    ],
)
def test_each_image_extra_resolves_to_pinned_versions_only(
    tmp_path: Path, extra: str, wanted: set[str], unwanted: set[str]
) -> None:
    resolved = resolve(extra, tmp_path)
    assert wanted <= set(resolved)
    assert not unwanted & set(resolved), unwanted & set(resolved)
    pins = constraints()
    resolved.pop("bqingest")
    unpinned = {name: v for name, v in resolved.items() if pins.get(name) != v}
    assert not unpinned, f"not pinned in constraints.txt at these versions: {unpinned}"


def test_dev_installs_every_part() -> None:
    import tomllib

    extras = tomllib.loads((dc.REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    dev_self = next(r for r in extras["dev"] if r.startswith("bqingest["))
    assert set(dev_self.removeprefix("bqingest[").rstrip("]").split(",")) == {
        "api",
        "pipeline",
        "local",
    }


# Importing these must never need the web server or Beam: they are what every image shares.
BLOCKED = ("fastapi", "starlette", "uvicorn", "apache_beam")
# bqemulator_main runs inside the local BigQuery emulator's process (the `local` extra).
OWN_EXTRA = ("bqingest.api", "bqingest.pipeline", "bqingest.local.bqemulator_main")


def test_shared_modules_import_without_fastapi_or_beam() -> None:
    """Every module but those of the API and the pipeline imports with fastapi and Beam absent,
    and ``bqingest --help`` works: the API image has no Beam, the pipeline image no FastAPI."""
    package = dc.REPO / "src" / "bqingest"
    modules = sorted(
        ".".join(("bqingest", *p.relative_to(package).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in package.rglob("*.py")
    )
    shared = [m for m in modules if not m.startswith(OWN_EXTRA) and m != "bqingest.__main__"]
    assert {"bqingest.cli", "bqingest.config", "bqingest.contract", "bqingest.local.up"} <= set(
        shared
    )
    script = f"""
import importlib, sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of it raises ImportError
for name in {shared!r}:
    importlib.import_module(name)
from bqingest.cli import app
import typer.testing
result = typer.testing.CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0, result.output
print("imported", len({shared!r}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == str(len(shared))


# --- documentation --------------------------------------------------------------------------------


def test_ci_cd_doc_documents_every_variable_secret_and_workflow() -> None:
    """docs/ci-cd.md says what each variable and secret the workflows read is, and names each
    workflow."""
    doc = (dc.REPO / "docs" / "ci-cd.md").read_text()
    text = all_workflow_text()
    used = set(re.findall(r"vars\.([A-Z0-9_]+)", text)) | set(
        re.findall(r"secrets\.([A-Z0-9_]+)", text)
    )
    assert {"GCP_DEPLOYER_SERVICE_ACCOUNT", "GCP_PLANNER_SERVICE_ACCOUNT", "SMOKE_API_KEY"} <= used
    for name in used:
        assert f"`{name}`" in doc, f"docs/ci-cd.md does not document {name}"
    for workflow in dc.workflow_files():
        assert f"`{workflow.name}`" in doc, workflow.name


# --- the Dataflow job's update: replaced only when Dataflow refused it (defect 2) -----------------

STUB_TERRAFORM = """#!/usr/bin/env bash
echo "terraform $*" >> "$STUBS/calls.log"
case " $* " in
  *" show "*) cat "$STUBS/retry.json" ;;
  *" output "*) echo bqingest-pipeline ;;
esac
exit 0
"""
STUB_GCLOUD = """#!/usr/bin/env bash
echo "gcloud $*" >> "$STUBS/calls.log"
case " $* " in
  *" jobs describe "*) cat "$STUBS/job.json" ;;
  *" logs list "*) cat "$STUBS/messages.json" ;;
esac
exit 0
"""
REPLACEMENT_JOB = "2026-11-30_04_12_56-1234567890"
INCOMPATIBLE = (
    "Workflow failed. Causes: The new job is not compatible with 2026-11-29_10_00_00-42. "
    "The original job has not been aborted., The Coder or type for step ParseAndValidate has "
    "changed."
)
LAUNCHER_FAILED = (
    "Error occurred in the launcher container: Template launch failed: "
    "ModuleNotFoundError: No module named 'bqingest'"
)


def fallback_step() -> dict[str, Any]:
    """The deploy job's step that runs when terraform apply failed."""
    (step,) = [
        s
        for s in dc.load_yaml(DEPLOYMENT)["jobs"]["deploy"]["steps"]
        if "steps.apply.outcome == 'failure'" in str(s.get("if", ""))
    ]
    return step


def run_fallback(
    tmp_path: Path,
    *,
    apply_log: str,
    state: str,
    message: str,
    allow_replace: str = "",
    environment: str = "dev",
) -> tuple[int, str, list[str]]:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in (("terraform", STUB_TERRAFORM), ("gcloud", STUB_GCLOUD)):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    job_change = change(
        "module.dataflow.google_dataflow_flex_template_job.pipeline",
        ["update"],
        {"container_spec_gcs_path": "gs://b/old.json"},
        {"container_spec_gcs_path": "gs://b/new.json"},
    )
    (stubs / "retry.json").write_text(json.dumps(plan_json(job_change)))
    (stubs / "job.json").write_text(json.dumps({"id": REPLACEMENT_JOB, "currentState": state}))
    (stubs / "messages.json").write_text(
        json.dumps([{"messageImportance": "JOB_MESSAGE_ERROR", "messageText": message}])
    )
    work = tmp_path / "work"
    work.mkdir()
    (work / ".ci").symlink_to(dc.REPO / ".ci")
    (work / "apply.log").write_text(apply_log)
    summary = tmp_path / "summary.md"
    step = fallback_step()
    env = {
        "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
        "STUBS": str(stubs),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GCP_REGION": "us-central1",
        "ENVIRONMENT": environment,
        "DATAFLOW_JOB": DATAFLOW_JOB_ADDRESS,
        "DATAFLOW_ALLOW_REPLACE": allow_replace,
        "TF_ROOT": "terraform",
        "VAR_FILE": "envs/dev.tfvars",
        "PLANNED": "update",
    }
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        env=env, cwd=work, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    calls = (stubs / "calls.log").read_text().splitlines() if (stubs / "calls.log").exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def replaced(calls: list[str]) -> bool:
    return any(" apply " in f" {c} " and "-replace=" in c for c in calls)


TERRAFORM_UPDATE_ERROR = (
    f'Error: Error waiting for Job with job ID "{REPLACEMENT_JOB}" to be updated: the job with '
    f'ID "{REPLACEMENT_JOB}" has terminated with state "JOB_STATE_FAILED" instead of expected '
    'state "JOB_STATE_RUNNING"\n'
)


def test_a_refused_update_drains_and_replaces_the_job(tmp_path: Path) -> None:
    code, printed, calls = run_fallback(
        tmp_path, apply_log=TERRAFORM_UPDATE_ERROR, state="JOB_STATE_FAILED", message=INCOMPATIBLE
    )
    assert code == 0, printed
    assert replaced(calls), calls
    assert any(REPLACEMENT_JOB in c and "logs list" in c for c in calls), calls


@pytest.mark.parametrize(
    ("apply_log", "state", "message"),
    [
        # A broken image: the replacement job fails in the launcher.
        (TERRAFORM_UPDATE_ERROR, "JOB_STATE_FAILED", LAUNCHER_FAILED),
        # The replacement was cancelled by someone, not refused.
        (TERRAFORM_UPDATE_ERROR, "JOB_STATE_CANCELLED", INCOMPATIBLE),
        # No replacement job at all: the launch request itself was refused.
        ("Error: googleapi: Error 400: The template parameters are invalid.\n", "", ""),
    ],
    ids=["broken-image", "cancelled", "launch-refused"],
)
def test_any_other_failed_update_leaves_the_running_job_alone(
    tmp_path: Path, apply_log: str, state: str, message: str
) -> None:
    code, printed, calls = run_fallback(tmp_path, apply_log=apply_log, state=state, message=message)
    assert code == 1, printed
    assert not replaced(calls), calls
    assert "running job" in printed


def test_a_refused_update_is_not_replaced_where_replacing_is_off(tmp_path: Path) -> None:
    code, printed, calls = run_fallback(
        tmp_path,
        apply_log=TERRAFORM_UPDATE_ERROR,
        state="JOB_STATE_FAILED",
        message=INCOMPATIBLE,
        allow_replace="false",
    )
    assert code == 1 and not replaced(calls), printed
    assert "DATAFLOW_ALLOW_REPLACE" in printed


def test_unset_replace_policy_refuses_in_prod(tmp_path: Path) -> None:
    """DATAFLOW_ALLOW_REPLACE unset must not drain prod's job: only an explicit true does."""
    code, printed, calls = run_fallback(
        tmp_path,
        apply_log=TERRAFORM_UPDATE_ERROR,
        state="JOB_STATE_FAILED",
        message=INCOMPATIBLE,
        environment="prod",
    )
    assert code == 1 and not replaced(calls), printed
    assert "DATAFLOW_ALLOW_REPLACE" in printed


def test_explicit_replace_policy_replaces_in_prod(tmp_path: Path) -> None:
    code, printed, calls = run_fallback(
        tmp_path,
        apply_log=TERRAFORM_UPDATE_ERROR,
        state="JOB_STATE_FAILED",
        message=INCOMPATIBLE,
        allow_replace="true",
        environment="prod",
    )
    assert code == 0 and replaced(calls), printed


def test_an_update_that_outlasts_the_wait_gives_the_import_step(tmp_path: Path) -> None:
    """The replacement job still running after the provider's 20 minutes: the state keeps the
    old job, and later creates would get 409. The step fails with the runbook's import."""
    timed_out = TERRAFORM_UPDATE_ERROR.replace(
        'has terminated with state "JOB_STATE_FAILED"', 'is in state "JOB_STATE_PENDING"'
    )
    code, printed, calls = run_fallback(
        tmp_path, apply_log=timed_out, state="JOB_STATE_RUNNING", message=""
    )
    assert code == 1 and not replaced(calls), printed
    assert f"terraform import {DATAFLOW_JOB_ADDRESS} {REPLACEMENT_JOB}" in printed
    runbook = (dc.REPO / "docs" / "runbook.md").read_text()
    assert f"terraform import {DATAFLOW_JOB_ADDRESS} JOB_ID" in runbook


def test_a_create_while_the_job_runs_is_refused_with_the_import_step(tmp_path: Path) -> None:
    step = dc.step_named(DEPLOYMENT, "plan", "How the Dataflow job rolls")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "terraform").write_text("#!/usr/bin/env bash\necho -n bqingest-pipeline\n")
    (stubs / "gcloud").write_text(
        "#!/usr/bin/env bash\n"
        'echo \'[{"id": "2026-12-01_00_00_00-7", "name": "bqingest-pipeline", '
        '"state": "Running"}]\'\n'
    )
    for tool in stubs.iterdir():
        tool.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".ci").symlink_to(dc.REPO / ".ci")
    job = change(DATAFLOW_JOB_ADDRESS, ["create"], None, {"name": "bqingest-pipeline"})
    (work / "plan.json").write_text(json.dumps(plan_json(job)))
    env = {
        "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GCP_REGION": "us-central1",
        "ENVIRONMENT": "dev",
        "DATAFLOW_JOB": DATAFLOW_JOB_ADDRESS,
        "DATAFLOW_ALLOW_REPLACE": "",
        "TF_ROOT": "terraform",
    }
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        env=env, cwd=work, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"terraform import {DATAFLOW_JOB_ADDRESS} 2026-12-01_00_00_00-7" in result.stdout


# --- reviewed plans: the plan exists, in the run, before the approval; the apply applies it -------

# Inputs of the artifact actions at the pinned commits (their action.yml).
UPLOAD_ARTIFACT_INPUTS = {
    "name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite",
    "include-hidden-files", "archive",
}  # fmt: skip
DOWNLOAD_ARTIFACT_INPUTS = {
    "name", "artifact-ids", "path", "pattern", "merge-multiple", "github-token", "repository",
    "run-id", "skip-decompress", "digest-mismatch",
}  # fmt: skip


def test_the_plan_is_made_and_shown_before_the_approval_and_applied_as_saved() -> None:
    jobs = dc.load_yaml(DEPLOYMENT)["jobs"]
    plan, deploy = jobs["plan"], jobs["deploy"]
    # The plan job is not in the protected environment (no approval before it), as the planner.
    assert plan["environment"] == "${{ needs.target.outputs.environment }}-plan"
    assert deploy["environment"]["name"] == "${{ needs.target.outputs.environment }}"
    plan_runs = "\n".join(str(s.get("run", "")) for s in plan["steps"])
    deploy_runs = "\n".join(str(s.get("run", "")) for s in deploy["steps"])
    assert "-out=deploy.tfplan" in plan_runs and "GITHUB_STEP_SUMMARY" in plan_runs
    assert "plan_gate.py plan.json" in plan_runs
    # Nothing is built or written before the approval.
    assert "push_image.sh" not in plan_runs and "flex-template build" not in plan_runs
    # The deploy job applies the saved plan, and plans nothing of its own first.
    (upload,) = [s for s in plan["steps"] if "actions/upload-artifact@" in str(s.get("uses"))]
    (download,) = [s for s in deploy["steps"] if "actions/download-artifact@" in str(s.get("uses"))]
    assert set(upload["with"]) <= UPLOAD_ARTIFACT_INPUTS
    assert set(download["with"]) <= DOWNLOAD_ARTIFACT_INPUTS
    assert upload["with"]["name"] == download["with"]["name"]
    assert "${{ github.sha }}" in upload["with"]["name"]
    saved = upload["with"]["path"].split()
    assert {"terraform/deploy.tfplan", "terraform/.terraform.lock.hcl", "plan.json"} <= set(saved)
    assert upload["with"]["include-hidden-files"] is True  # the lock file
    order = [s.get("uses", s.get("name")) for s in deploy["steps"]]
    assert order.index(download["uses"]) < order.index("./.github/actions/gcp-terraform")
    applies = [
        line
        for line in deploy_runs.replace("\\\n", " ").splitlines()
        if "terraform -chdir" in line and " apply " in line and "-replace=" not in line
    ]
    assert applies and all(
        line.rstrip().split(" 2>&1")[0].endswith("deploy.tfplan") for line in applies
    )
    before_apply = deploy_runs.split(" apply ", 1)[0]
    assert "-out=deploy.tfplan" not in before_apply


# --- base images by digest ------------------------------------------------------------------------

# Base images whose digest for the pinned tag was not found in public material when they were
# pinned, and so is not written here (a digest is never guessed). Refresh, on a machine with
# Docker: `docker buildx imagetools inspect IMAGE:TAG --format '{{json .Manifest.Digest}}'`,
# write TAG@DIGEST in the Dockerfile and remove the entry (docs/ci-cd.md, Container images).
DIGEST_PENDING = {
    "apache/beam_python3.11_sdk:2.77.0",
    "gcr.io/dataflow-templates-base/python311-template-launcher-base:"
    "flex_templates_base_image_release_20240628_RC00",
}


def base_images(path: Path) -> list[str]:
    args = dc.dockerfile_args(path)
    images = []
    for kind, argument in dc.dockerfile_instructions(path):
        if kind != "FROM":
            continue
        image = argument.split(" AS ")[0].strip()
        for name, value in args.items():
            image = image.replace(f"${{{name}}}", value)
        images.append(image)
    return images


@pytest.mark.parametrize("dockerfile", dc.dockerfiles(), ids=lambda p: str(p.relative_to(dc.REPO)))
def test_base_images_are_pinned_by_digest(dockerfile: Path) -> None:
    """A tag can be moved to other bytes; a digest cannot. Every FROM is TAG@sha256:DIGEST, or
    is listed above as pending, with the command that gives its digest."""
    for image in base_images(dockerfile):
        if image in DIGEST_PENDING:
            continue
        assert re.fullmatch(r"[\w./:-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), image


def test_the_digest_check_refuses_a_tag_alone(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("ARG BASE=python:3.11.14-slim-bookworm\nFROM ${BASE} AS build\n")
    (image,) = base_images(bad)
    assert image == "python:3.11.14-slim-bookworm"
    assert not re.fullmatch(r"[\w./:-]+:[\w.-]+@sha256:[0-9a-f]{64}", image)
