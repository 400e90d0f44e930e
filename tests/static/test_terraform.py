"""Static checks of terraform/: the terraform binary and providers cannot run here, so these tests
parse every file with python-hcl2, resolve every reference, compare the environment roots, tie
the configuration to the application's contract and settings, and run checkov. CI additionally
runs `terraform fmt -check`, `terraform validate` and `terraform plan`.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bqingest.config import LocalSettings
from bqingest.contract import MessageContext, parse_message
from bqingest.contract import schema as table_schema
from bqingest.contract.typed_views import TYPED_VIEWS_FOLDER
from tests.static import terraform_config as tf
from tests.static import terraform_docs

DIRECTORIES = tf.all_directories()
MODULE_DIRECTORIES = sorted(p for p in tf.MODULES.iterdir() if p.is_dir())
ROOTS = tf.ROOTS
CHECKOV = tf.REPO / ".venv-tools" / "bin" / "checkov"
BASIC_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
ROOT_FILES = {
    "iam_propagation.tf",
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "remote_state.tf",
    "terraform.tfvars",
    "provider-schema.lock.json",
}
# Set by the deployment for each commit (TF_VAR_*), never in a file.
PER_COMMIT_VARIABLES = {"api_image", "pipeline_image"}
# LocalSettings the API issue adds to bqingest.config (the Cloud Run service already sets them).
API_SETTINGS_PENDING = {"BQINGEST_API_KEYS", "BQINGEST_PUBLIC_READ"}


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(tf.TERRAFORM)) for p in paths]


def settings_default(name: str) -> Any:
    return LocalSettings.model_fields[name].default


# --- every file parses (CI runs `terraform fmt -check` for the layout) ----------------------------


@pytest.mark.parametrize("path", tf.all_files(), ids=ids(tf.all_files()))
def test_every_file_parses(path: Path) -> None:
    parsed = tf.parse(path)
    assert parsed, f"{path} parsed to nothing"


# --- declarations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_variables_are_typed_described_and_alphabetical(directory: Path) -> None:
    config = tf.load(str(directory))
    for name, variable in config.variables.items():
        assert variable.type != "any", f"{config.name}: variable {name} has no type"
        assert variable.description, f"{config.name}: variable {name} has no description"
    for file_name, order in config.variable_order.items():
        assert order == sorted(order), f"{config.name}/{file_name}: variables not alphabetical"


@pytest.mark.parametrize("directory", MODULE_DIRECTORIES, ids=ids(MODULE_DIRECTORIES))
def test_module_inputs_are_validated(directory: Path) -> None:
    """Every non-boolean module input has a validation: bad values fail at plan, not at apply."""
    config = tf.load(str(directory))
    unvalidated = [
        name for name, v in config.variables.items() if v.type != "bool" and not v.validations
    ]
    assert not unvalidated, f"{config.name}: no validation for {unvalidated}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_outputs_are_described(directory: Path) -> None:
    config = tf.load(str(directory))
    for name, body in config.outputs.items():
        assert body.get("description"), f"{config.name}: output {name} has no description"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_providers_are_pinned(directory: Path) -> None:
    config = tf.load(str(directory))
    required = [
        provider
        for block in config.terraform_blocks
        for providers in block.get("required_providers", [])
        for provider in providers.values()
    ]
    versions = [block.get("required_version") for block in config.terraform_blocks]
    assert ">= 1.6.0, < 2.0.0" in versions, f"{config.name}: required_version missing"
    assert required, f"{config.name}: no required_providers"
    for provider in required:
        assert provider["source"] in {"hashicorp/google", "hashicorp/google-beta", "hashicorp/time"}
        # Which version exactly: test_provider_schema.py (the one validated against).


_REGEX_VALIDATION = re.compile(r'can\(regex\("((?:[^"\\]|\\.)*)", var\.(\w+)\)\)')
# Values the environment roots really pass, to try against the modules' patterns: common ones,
# then per directory where a name means something else there.
_SAMPLES = {
    "project_id": "bqingest-prod",
    "project_number": "123456789012",
    "region": "us-central1",
    "github_repository": "my-org/bqingest",
    "github_environment": "prod",
    "github_deploy_ref": "refs/heads/main",
    "github_repository_id": "123456789",
    "service_account_email": "bqingest-api-reader@bqingest-prod.iam.gserviceaccount.com",
    "bucket_name": "acme-bqingest-tfstate",
    "topic_id": "projects/bqingest-prod/topics/events",
}
_SAMPLES_IN = {
    "cloud_run_api": {
        "image": "us-central1-docker.pkg.dev/bqingest-prod/bqingest/api:3f2c1ab",
        "location": "US",
        "dataset": "bqingest",
        "events_table": "events",
        "dead_letter_table": "dead_letters",
        "dedup_view": "events_dedup",
        "topic": "events",
    },
    "dataflow": {
        "sdk_container_image": "us-central1-docker.pkg.dev/bqingest-prod/bqingest/pipeline:3f2c1ab",
        "bucket": "bqingest-prod-bqingest-dataflow",
        "container_spec_gcs_path": "gs://bqingest-prod-bqingest-dataflow/templates/p.json",
        "subscription": "projects/bqingest-prod/subscriptions/events-pipeline",
        "events_table": "bqingest-prod.bqingest.events",
        "dead_letter_table": "bqingest-prod.bqingest.dead_letters",
        "subnetwork": "https://www.googleapis.com/compute/v1/projects/bqingest-prod/regions/"
        "us-central1/subnetworks/bqingest-workers",
    },
    "reconcile": {
        "image": "us-central1-docker.pkg.dev/bqingest-prod/bqingest/api:3f2c1ab",
        "location": "US",
        "dataset": "bqingest",
        "events_table": "events",
        "dead_letter_table": "dead_letters",
        "dedup_view": "events_dedup",
        "topic": "events",
    },
    "storage": {"name": "bqingest-prod-bqingest-dataflow", "location": "us-central1"},
    "artifact_registry": {"location": "us-central1"},
    "bigquery": {"location": "EU"},
    "monitoring": {
        "api_service_name": "bqingest-api",
        "dataflow_job_name": "bqingest-pipeline",
        "topic": "events",
        "subscription": "events-pipeline",
        "runbook_url": "https://github.com/my-org/bqingest/blob/main/docs/runbook.md",
    },
}


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_regex_validations_accept_defaults_and_real_values(directory: Path) -> None:
    """Every `can(regex(...))` validation accepts its default and a real value, so a pattern
    typo cannot make the first plan fail (Python's re reads these patterns as RE2 does)."""
    config = tf.load(str(directory))
    samples = _SAMPLES | _SAMPLES_IN.get(directory.name, {})
    expressions = [v for v in tf.all_values(config.files) if isinstance(v, str)]
    validations = [m for text in expressions for m in _REGEX_VALIDATION.finditer(text)]
    for match in validations:
        # The pattern as written in HCL: undo HCL's string escapes (a subset of JSON's).
        pattern, name = json.loads(f'"{match.group(1)}"'), match.group(2)
        variable = config.variables[name]
        values = [variable.default] if isinstance(variable.default, str) else []
        values += [samples[name]] if name in samples else []
        assert values, f"{config.name}: no value to try against the pattern of {name}"
        for value in values:
            assert re.search(pattern, value), f"{config.name}: {name}={value!r} fails {pattern}"


# --- references resolve ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_var_and_local_references_are_declared(directory: Path) -> None:
    config = tf.load(str(directory))
    text = config.expressions()
    unknown_vars = set(tf.VAR_REF.findall(text)) - set(config.variables)
    unknown_locals = set(tf.LOCAL_REF.findall(text)) - set(config.locals)
    assert not unknown_vars, f"{config.name}: undeclared variables {sorted(unknown_vars)}"
    assert not unknown_locals, f"{config.name}: undeclared locals {sorted(unknown_locals)}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_resource_and_data_references_are_declared(directory: Path) -> None:
    config = tf.load(str(directory))
    text = config.expressions()
    unknown_resources = set(tf.RESOURCE_REF.findall(text)) - set(config.resources)
    unknown_data = set(tf.DATA_REF.findall(text)) - set(config.data)
    assert not unknown_resources, f"{config.name}: undeclared resources {unknown_resources}"
    assert not unknown_data, f"{config.name}: undeclared data sources {unknown_data}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_declared_variables_and_locals_are_used(directory: Path) -> None:
    config = tf.load(str(directory))
    text = config.expressions()
    unused_vars = set(config.variables) - set(tf.VAR_REF.findall(text))
    unused_locals = set(config.locals) - set(tf.LOCAL_REF.findall(text))
    assert not unused_vars, f"{config.name}: unused variables {sorted(unused_vars)}"
    assert not unused_locals, f"{config.name}: unused locals {sorted(unused_locals)}"


@pytest.mark.parametrize("root", ROOTS, ids=ids(ROOTS))
def test_module_calls_match_the_modules_variables(root: Path) -> None:
    config = tf.load(str(root))
    for call, arguments in config.modules.items():
        module = config.module_config(call)
        passed = set(arguments) - tf.MODULE_META_ARGUMENTS
        unknown = passed - set(module.variables)
        required = {name for name, v in module.variables.items() if not v.has_default}
        missing = required - passed
        assert not unknown, f"{config.name}: module.{call} has no variables {sorted(unknown)}"
        assert not missing, f"{config.name}: module.{call} misses required {sorted(missing)}"


@pytest.mark.parametrize("root", ROOTS, ids=ids(ROOTS))
def test_module_references_name_existing_outputs(root: Path) -> None:
    config = tf.load(str(root))
    for call, output in tf.MODULE_REF.findall(config.expressions()):
        assert call in config.modules, f"{config.name}: module.{call} is not declared"
        if output:
            outputs = config.module_config(call).outputs
            assert output in outputs, f"{config.name}: module.{call} has no output {output}"


def test_reference_checks_see_a_dangling_reference(tmp_path: Path) -> None:
    """The reference checks above can fail: a typo in a name is found."""
    (tmp_path / "main.tf").write_text(
        'variable "known" {\n  type = string\n}\n\n'
        'resource "google_pubsub_topic" "events" {\n'
        "  name   = var.knwon\n"
        "  labels = local.missing\n"
        "}\n\n"
        'output "id" {\n  value = google_pubsub_topic.evnets.id\n}\n'
    )
    config = tf.load(str(tmp_path))
    text = config.expressions()
    assert set(tf.VAR_REF.findall(text)) - set(config.variables) == {"knwon"}
    assert set(tf.LOCAL_REF.findall(text)) == {"missing"}
    assert set(tf.RESOURCE_REF.findall(text)) - set(config.resources) == {
        ("google_pubsub_topic", "evnets")
    }


# --- one root, three environments -----------------------------------------------------------------


def test_one_root_with_a_values_file_and_a_backend_file_per_environment() -> None:
    files = {p.name for p in tf.ROOT.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert files == ROOT_FILES, sorted(files)
    per_environment = {p.name for p in tf.ENVS.iterdir()}
    assert per_environment == {
        f"{e}.{kind}" for e in tf.ENVIRONMENTS for kind in ("tfvars", "gcs.tfbackend")
    }
    assert not [
        p
        for p in tf.TERRAFORM.iterdir()
        if p.is_dir() and p.name not in ("envs", "modules", "bootstrap")
    ], "one root: no other directory of .tf files"


def test_backend_is_partial_and_each_environment_names_its_prefix() -> None:
    """remote_state.tf declares the gcs backend with nothing in it; envs/ENV.gcs.tfbackend gives
    the prefix the bootstrap's state_writers condition allows, the bucket comes at init."""
    (backend,) = tf.find_key(tf.parse(tf.ROOT / "remote_state.tf"), "backend")
    assert backend == [{"gcs": {}}], backend
    bootstrap_prefix = tf.load(str(tf.BOOTSTRAP)).variables["state_prefix"].default
    for environment in tf.ENVIRONMENTS:
        settings = tf.parse(tf.ENVS / f"{environment}.gcs.tfbackend")
        assert settings == {"prefix": f"{bootstrap_prefix}/{environment}"}, environment


@pytest.mark.parametrize("environment", tf.ENVIRONMENTS)
def test_each_environment_sets_declared_variables_and_every_required_one(environment: str) -> None:
    root = tf.load(str(tf.ROOT))
    shared = tf.parse(tf.ROOT / "terraform.tfvars")
    own = tf.parse(tf.ENVS / f"{environment}.tfvars")
    for name, values in (("terraform.tfvars", shared), (f"envs/{environment}.tfvars", own)):
        undeclared = set(values) - set(root.variables)
        assert not undeclared, f"{name} sets undeclared {sorted(undeclared)}"
    assert not {"environment", "project_id"} & set(shared), "per environment, not shared"
    values = tf.environment_values(environment)
    assert values["environment"] == environment
    assert values["deletion_protection"] is (environment == "prod")
    required = {name for name, v in root.variables.items() if not v.has_default}
    assert required - set(values) == PER_COMMIT_VARIABLES


# --- tied to the application: contract, settings, pipeline parameters -----------------------------


def test_bigquery_module_reads_the_exported_schemas(tmp_path: Path) -> None:
    """Terraform reads exactly the files `bqingest schema export` writes; their contents are
    compared with the contract by tests/unit/contract/test_schema.py (the drift test)."""
    module = tf.load(str(tf.MODULES / "bigquery"))
    read = set(re.findall(r"\$\{path\.module\}/schemas/([\w.]+)", module.expressions()))
    exported = {p.name for p in table_schema.export(tmp_path)}
    assert read == exported | {TYPED_VIEWS_FOLDER}
    for name in exported:
        assert (tf.MODULES / "bigquery" / "schemas" / name).is_file()
    view = module.resources[("google_bigquery_table", "events_dedup")]["view"][0]["query"]
    template_vars = set(re.findall(r"\$\{(\w+)\}", (tmp_path / "events_dedup.sql").read_text()))
    passed = set(re.findall(r"[{,]\s*(\w+)\s*=", view))
    assert template_vars == passed == {"project", "dataset", "table"}
    assert "table = google_bigquery_table.events.table_id" in view


def test_tables_partition_and_cluster_as_the_contract_says() -> None:
    module = tf.load(str(tf.MODULES / "bigquery"))
    for resource, spec in (
        ("events", table_schema.EVENTS),
        ("dead_letters", table_schema.DEAD_LETTERS),
    ):
        table = module.resources[("google_bigquery_table", resource)]
        (partitioning,) = table["time_partitioning"]
        assert partitioning["type"] == "DAY"
        assert partitioning["field"] == spec.partition_field
        assert table["clustering"] == list(spec.clustering)
        assert tf.unwrap(table["deletion_protection"]) == "var.deletion_protection"


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "pubsub",
            [
                "topic",
                "subscription",
                "ack_deadline_seconds",
                "message_retention_seconds",
                "retain_acked_messages",
            ],
        ),
        ("bigquery", ["dataset", "events_table", "dead_letter_table", "dedup_view", "location"]),
        ("dataflow", ["max_message_bytes"]),
    ],
)
def test_resource_names_and_limits_default_to_the_settings(module: str, names: list[str]) -> None:
    variables = tf.load(str(tf.MODULES / module)).variables
    for name in names:
        assert variables[name].default == settings_default(name), f"{module}.{name}"


def test_environment_defaults_match_the_settings() -> None:
    root = tf.load(str(tf.ROOT)).variables
    assert root["bigquery_location"].default == settings_default("location")
    assert root["max_message_bytes"].default == settings_default("max_message_bytes")
    api = tf.load(str(tf.MODULES / "cloud_run_api")).variables
    assert api["container_port"].default == settings_default("api_port")


def test_cloud_run_environment_is_the_settings_names() -> None:
    module = tf.load(str(tf.MODULES / "cloud_run_api"))
    plain = module.locals["environment_variables"]
    (service,) = [
        body
        for (kind, _), body in module.resources.items()
        if kind == "google_cloud_run_v2_service"
    ]
    (container,) = service["template"][0]["containers"]
    secret_names = [env["name"] for env in container["env"]]
    names = set(plain) | set(secret_names)
    fields = {"BQINGEST_" + name.upper() for name in LocalSettings.model_fields}
    assert names - fields <= API_SETTINGS_PENDING, names - fields - API_SETTINGS_PENDING
    assert names >= {
        "BQINGEST_ENVIRONMENT",
        "BQINGEST_PROJECT",
        "BQINGEST_LOCATION",
        "BQINGEST_DATASET",
        "BQINGEST_EVENTS_TABLE",
        "BQINGEST_DEAD_LETTER_TABLE",
        "BQINGEST_DEDUP_VIEW",
        "BQINGEST_TOPIC",
        "BQINGEST_PUBLIC_READ",
        "BQINGEST_API_KEYS",
        "BQINGEST_API_HOST",
        "BQINGEST_API_PORT",
    }
    assert plain["BQINGEST_PUBLIC_READ"] == "false"
    assert plain["BQINGEST_API_HOST"] == "0.0.0.0"
    assert secret_names == ["BQINGEST_API_KEYS"]
    assert container["startup_probe"][0]["http_get"][0]["path"] == "/healthz"
    assert container["liveness_probe"][0]["http_get"][0]["path"] == "/healthz"
    assert "command" not in container and "args" not in container


def test_scheduler_publishes_a_cloudevent_the_pipeline_accepts() -> None:
    module = tf.load(str(tf.MODULES / "scheduler"))
    values = {name: v.default for name, v in module.variables.items() if v.has_default}
    values |= {"project_id": "bqingest-prod", "region": "us-central1"}

    def render(text: str) -> str:
        return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(values[m.group(1)]), text)

    attributes = {key: render(value) for key, value in module.locals["event_attributes"].items()}
    data = {key: render(value) for key, value in module.locals["event_data"].items()}
    (job,) = module.resources.values()
    (target,) = job["pubsub_target"]
    assert tf.unwrap(target["data"]) == "base64encode(jsonencode(local.event_data))"
    assert tf.unwrap(target["attributes"]) == "local.event_attributes"
    assert values["schedule"] == "*/3 * * * *"
    # Scheduler sends base64decode(data): jsonencode's output, object keys sorted, no spaces.
    body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    context = MessageContext(
        message_id="17000000001",
        publish_time=datetime(2026, 11, 29, 7, 3, tzinfo=UTC),
        attributes=attributes,
    )

    event = parse_message(body, context)

    assert "ce-id" not in attributes
    assert event.id == "17000000001"
    assert event.type == "com.bqingest.scheduler.tick"
    assert event.source == (
        "//cloudscheduler.googleapis.com/projects/bqingest-prod/locations/us-central1/jobs/bqingest-tick"
    )
    assert event.data == {"job": "bqingest-tick", "schedule": "*/3 * * * *"}


def test_reconcile_job_runs_the_command_with_the_settings_names() -> None:
    """The scheduled job runs `bqingest reconcile --json` with settings the CLI reads, and the
    scheduler calls exactly that job's run method with the job's own account."""
    from bqingest.cli import app

    module = tf.load(str(tf.MODULES / "reconcile"))
    names = set(module.locals["environment_variables"])
    fields = {"BQINGEST_" + name.upper() for name in LocalSettings.model_fields}
    assert names <= fields, names - fields
    assert {"BQINGEST_ENVIRONMENT", "BQINGEST_PROJECT", "BQINGEST_TOPIC"} <= names
    job = module.resources[("google_cloud_run_v2_job", "reconcile")]
    (container,) = job["template"][0]["template"][0]["containers"]
    assert container["command"] == ["bqingest"]
    assert container["args"][0] == "reconcile" and container["args"][-1] == "--json"
    commands = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert "reconcile" in commands
    (target,) = module.resources[("google_cloud_scheduler_job", "reconcile")]["http_target"]
    assert target["uri"].endswith("/jobs/${google_cloud_run_v2_job.reconcile.name}:run")
    assert tf.unwrap(target["oauth_token"][0]["service_account_email"]) == (
        "var.service_account_email"
    )
    binding = module.resources[("google_cloud_run_v2_job_iam_member", "scheduler_runs_job")]
    assert binding["role"] == "roles/run.invoker"
    root = tf.load(str(tf.ROOT))
    assert tf.unwrap(root.modules["reconcile"]["image"]) == "var.api_image"
    assert tf.unwrap(root.modules["monitoring"]["reconcile_job_name"]) == (
        "module.reconcile.job_name"
    )
    iam = tf.load(str(tf.MODULES / "iam"))
    assert "roles/logging.configWriter" in iam.locals["deployer_project_roles"]


def test_dataflow_job_streams_drains_and_takes_exactly_the_pipeline_parameters() -> None:
    module = tf.load(str(tf.MODULES / "dataflow"))
    job = module.resources[("google_dataflow_flex_template_job", "pipeline")]
    assert set(job["parameters"]) == {
        "subscription",
        "events_table",
        "dead_letter_table",
        "max_message_bytes",
        "dead_letter_payloads",
    }
    assert job["parameters"]["dead_letter_payloads"].startswith("gs://${var.bucket}/")
    assert tf.unwrap(job["provider"]) == "google-beta"
    assert job["on_delete"] == "drain"
    assert job["enable_streaming_engine"] is True
    assert job["ip_configuration"] == "WORKER_IP_PRIVATE"
    root = tf.load(str(tf.ROOT)).modules["dataflow"]
    assert tf.unwrap(root["subscription"]) == "module.pubsub.subscription_id"
    assert tf.unwrap(root["events_table"]) == "module.bigquery.events_table_id"
    assert tf.unwrap(root["dead_letter_table"]) == "module.bigquery.dead_letter_table_id"


# --- least privilege ------------------------------------------------------------------------------


def test_no_basic_roles_public_members_or_keys() -> None:
    for directory in DIRECTORIES:
        config = tf.load(str(directory))
        values = [v for v in tf.all_values(config.files) if isinstance(v, str)]
        roles = {role for v in values for role in re.findall(r"roles/[\w.]+", v)}
        assert not roles & BASIC_ROLES, f"{config.name}: {roles & BASIC_ROLES}"
        members = [
            m
            for key in ("member", "members")
            for m in tf.all_values(tf.find_key(config.files, key))
        ]
        assert not set(members) & PUBLIC_MEMBERS, f"{config.name}: public member"
        assert not set(values) & PUBLIC_MEMBERS, f"{config.name}: public member"
        kinds = {kind for kind, _ in [*config.resources, *config.data]}
        assert "google_service_account_key" not in kinds, f"{config.name}: service account key"
        assert not {k for k in kinds if k.endswith(("_iam_policy", "_iam_binding"))}, (
            f"{config.name}: authoritative IAM would remove grants made outside Terraform"
        )


def test_project_roles_of_runtime_accounts_are_what_the_deployer_may_grant() -> None:
    """Runtime accounts hold project-level roles only where no narrower resource exists, and
    those are exactly the roles the deployer's conditional IAM admin binding may grant."""
    iam = tf.load(str(tf.MODULES / "iam"))
    runtime = set(iam.locals["runtime_project_roles"])
    granted = {
        body["role"]
        for (kind, name), body in iam.resources.items()
        if kind == "google_project_iam_member" and not name.startswith(("deployer", "planner"))
    }
    assert (
        granted
        == runtime
        == {"roles/bigquery.jobUser", "roles/dataflow.worker", "roles/monitoring.viewer"}
    )
    (condition,) = iam.resources[("google_project_iam_member", "deployer_grants_runtime_roles")][
        "condition"
    ]
    assert "modifiedGrantsByRole" in condition["expression"]
    assert "jsonencode(local.runtime_project_roles)" in condition["expression"]


# --- who may become the deployer or the planner (defect 6) ----------------------------------------


def _cel(expression: str, claims: dict[str, str]) -> object:
    """Evaluate the small CEL subset the provider's condition and mapping use (==, !=, &&, ||,
    in [...], startsWith, a ? b : c) on a token's claims."""
    python = expression.replace("&&", " and ").replace("||", " or ")
    python = python.replace(".startsWith(", ".startswith(")
    if " ? " in python:
        condition, rest = python.rsplit(" ? ", 1)
        yes, no = rest.split(" : ")
        python = f"({yes}) if ({condition}) else ({no})"
    return eval(python, {"__builtins__": {}}, {"assertion": SimpleNamespace(**claims)})  # noqa: S307


def _provider_expressions() -> tuple[str, str]:
    """The provider's attribute condition and access mapping, rendered for prod."""
    from tests.static import terraform_render as render

    iam = tf.load(str(tf.MODULES / "iam"))
    scope = render.Scope(
        iam,
        {
            "github_repository_id": "123456789",
            "github_environment": "prod",
            "github_deploy_ref": "refs/heads/main",
            "github_repository": "my-org/bqingest",
        },
    )
    condition = scope.value("local.attribute_condition")
    return condition, scope.value("local.access_mapping")


TOKEN = {
    "repository_id": "123456789",
    "environment": "prod",
    "ref": "refs/heads/main",
    "event_name": "push",
}


@pytest.mark.parametrize(
    ("claims", "access"),
    [
        ({}, "apply"),
        ({"event_name": "workflow_dispatch"}, "apply"),
        ({"event_name": "pull_request", "ref": "refs/pull/7/merge"}, "plan"),
        ({"event_name": "pull_request_target"}, None),
        ({"ref": "refs/heads/feature"}, None),
        ({"event_name": "pull_request", "ref": "refs/heads/main"}, None),
        ({"repository_id": "987654321"}, None),
        ({"environment": "dev"}, None),
        ({"environment": "dev", "event_name": "pull_request", "ref": "refs/pull/7/merge"}, None),
        # The deployment's plan job, before any review: the planner, never the deployer.
        ({"environment": "prod-plan"}, "plan"),
        ({"environment": "prod-plan", "event_name": "workflow_dispatch"}, "plan"),
        ({"environment": "prod-plan", "ref": "refs/heads/feature"}, None),
        (
            {"environment": "prod-plan", "event_name": "pull_request", "ref": "refs/pull/7/merge"},
            None,
        ),
        ({"environment": "dev-plan"}, None),
    ],
)
def test_workload_identity_admits_the_deploy_branch_and_pull_requests_only(
    claims: dict[str, str], access: str | None
) -> None:
    """Only this repository (by id), in this GitHub Environment: its deployment branch's pushes
    and manual runs become the deployer, its pull requests the read-only planner."""
    condition, mapping = _provider_expressions()
    token = {**TOKEN, **claims}
    admitted = _cel(condition, token)
    assert admitted is (access is not None), (token, condition)
    if access is not None:
        assert _cel(mapping, token) == access


def test_each_ci_identity_is_impersonated_by_its_access_only() -> None:
    iam = tf.load(str(tf.MODULES / "iam"))
    provider = iam.resources[("google_iam_workload_identity_pool_provider", "github")]
    assert tf.unwrap(provider["attribute_condition"]) == "local.attribute_condition"
    assert tf.unwrap(provider["attribute_mapping"]["attribute.access"]) == "local.access_mapping"
    assert provider["oidc"][0]["issuer_uri"] == "https://token.actions.githubusercontent.com"
    bindings = {
        name: body
        for (kind, name), body in iam.resources.items()
        if kind == "google_service_account_iam_member"
        and body["role"].endswith("workloadIdentityUser")
    }
    assert {
        name: (tf.unwrap(b["service_account_id"]), b["member"]) for name, b in bindings.items()
    } == {
        "github_impersonates_deployer": (
            "google_service_account.deployer.name",
            "${local.pool_principals}/attribute.access/apply",
        ),
        "github_impersonates_planner": (
            "google_service_account.planner.name",
            "${local.pool_principals}/attribute.access/plan",
        ),
    }
    root = tf.load(str(tf.ROOT))
    assert root.locals["deploy_refs"] == {
        "dev": "refs/heads/dev",
        "staging": "refs/heads/staging",
        "prod": "refs/heads/main",
    }
    assert (
        tf.unwrap(root.modules["iam"]["github_deploy_ref"]) == "local.deploy_refs[var.environment]"
    )


def test_the_deployer_administers_no_service_account() -> None:
    """No project-wide service-account or workload-identity administration: the deployer could
    take over any account of the project with it (a default compute account, its own). And no
    serviceAccountAdmin on single accounts either: with it the deployer could grant itself token
    creation on a runtime account. It may attach the runtime accounts (serviceAccountUser) and
    mint the invoker's identity tokens, and nothing more."""
    iam = tf.load(str(tf.MODULES / "iam"))
    project_roles = set(iam.locals["deployer_project_roles"])
    assert not project_roles & {
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.workloadIdentityPoolAdmin",
        "roles/resourcemanager.projectIamAdmin",
    }
    on_accounts = {
        (tf.unwrap(body["service_account_id"]), body["role"])
        for (kind, _), body in iam.resources.items()
        if kind == "google_service_account_iam_member"
        and "google_service_account.deployer.email" in body["member"]
    }
    assert on_accounts == {
        ("google_service_account.api_reader.name", "roles/iam.serviceAccountUser"),
        ("google_service_account.dataflow_worker.name", "roles/iam.serviceAccountUser"),
        ("google_service_account.reconcile.name", "roles/iam.serviceAccountUser"),
        ("google_service_account.api_invoker.name", "roles/iam.serviceAccountOpenIdTokenCreator"),
    }


# --- checkov --------------------------------------------------------------------------------------


def _inline_skips() -> dict[tuple[str, str], str]:
    """(check id, file relative to terraform/) -> reason, for every #checkov:skip comment."""
    skips: dict[tuple[str, str], str] = {}
    for path in tf.all_files():
        for line in path.read_text().splitlines():
            match = re.match(r"\s*#\s*checkov:skip=(CKV2?_[A-Z]+_\d+)(?::(.*))?$", line)
            if match:
                skips[(match.group(1), "/" + str(path.relative_to(tf.TERRAFORM)))] = (
                    match.group(2) or ""
                ).strip()
    return skips


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: run `make tools` (make test builds it)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(tf.TERRAFORM),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=tf.REPO,
    )
    assert result.stdout, (
        f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    report = json.loads(result.stdout)
    assert isinstance(report, dict), "expected one report (terraform framework only)"
    return report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    assert not failed, "\n".join(failed)


def test_every_checkov_skip_is_inline_with_a_reason_and_needed(
    checkov_report: dict[str, Any],
) -> None:
    skips = _inline_skips()
    assert skips, "no inline skips found: the parser of skip comments is broken"
    for (check, file_path), reason in skips.items():
        assert len(reason.split()) >= 5, f"{check} in {file_path}: give the reason"
    used = {(c["check_id"], c["file_path"]) for c in checkov_report["results"]["skipped_checks"]}
    unused = set(skips) - used
    assert not unused, f"skips that skip nothing (remove them): {sorted(unused)}"
    assert used <= set(skips), f"skips not written inline: {sorted(used - set(skips))}"


# --- documentation --------------------------------------------------------------------------------


def test_deploy_doc_first_apply_matches_the_configuration() -> None:
    """docs/deploy.md's first apply gives every per-commit variable, uses the files of this
    layout, and links every module."""
    doc = (tf.REPO / "docs" / "deploy.md").read_text()
    (variables_line,) = [line for line in doc.splitlines() if line.startswith("VARS=")]
    for name in PER_COMMIT_VARIABLES:
        assert f"-var {name}=" in variables_line, name
    assert "-var-file=envs/$ENV.tfvars" in variables_line
    assert "-backend-config=envs/$ENV.gcs.tfbackend" in doc
    for module in MODULE_DIRECTORIES:
        assert f"(../terraform/modules/{module.name}/README.md)" in doc, module.name


def test_variable_tables_are_up_to_date() -> None:
    stale = terraform_docs.stale_documents()
    assert not stale, (
        f"variable tables out of date in {stale}: "
        "run `.venv/bin/python -m tests.static.terraform_docs`"
    )


# --- the pipeline's subscription (defect 5) -------------------------------------------------------


def test_no_subscription_forwards_or_delays_messages_dataflow_reads() -> None:
    """Pub/Sub's dead-letter topics and retry policies are not supported by Dataflow
    (cloud.google.com/pubsub/docs/handling-failures): Dataflow acknowledges on its own terms, and
    a dead-letter policy could forward messages the pipeline holds out of its path. The
    pipeline's dead_letters table is the one place for bad messages."""
    module = tf.load(str(tf.MODULES / "pubsub"))
    subscriptions = {
        name: body
        for (kind, name), body in module.resources.items()
        if kind == "google_pubsub_subscription"
    }
    assert set(subscriptions) == {"pipeline"}, sorted(subscriptions)
    pipeline = subscriptions["pipeline"]
    assert "dead_letter_policy" not in pipeline
    assert "retry_policy" not in pipeline
    topics = {name for (kind, name) in module.resources if kind == "google_pubsub_topic"}
    assert topics == {"events"}, "a topic nothing publishes to but Pub/Sub's dead lettering"
    # Nobody grants the Pub/Sub service agent anything: it forwarded dead letters, nothing else.
    for directory in DIRECTORIES:
        text = tf.load(str(directory)).expressions()
        assert "gcp-sa-pubsub" not in text, tf.load(str(directory)).name


# --- the Dataflow job's streaming mode (defect 4) -------------------------------------------------

AT_LEAST_ONCE = "streaming_mode_at_least_once"


def test_the_job_runs_in_at_least_once_mode_set_where_dataflow_reads_it() -> None:
    """ADR 0003: the job runs at least once. `gcloud dataflow flex-template build` keeps only
    name, description, parameters (and yamlDefinition) of metadata.json, so its
    defaultStreamingMode never reaches the spec; the mode is set at launch instead, as the
    streaming_mode_at_least_once experiment of the launch request's environment, which the job
    resource sends on every create and update."""
    job = tf.load(str(tf.MODULES / "dataflow")).resources[
        ("google_dataflow_flex_template_job", "pipeline")
    ]
    experiments = job.get("additional_experiments", [])
    assert AT_LEAST_ONCE in experiments, experiments
    assert "streaming_mode_exactly_once" not in experiments
    # Dataflow runs at-least-once mode on Streaming Engine only.
    assert job["enable_streaming_engine"] is True


# Measured: an NDJSON export through the API from bqemulator streamed 20,000 rows of about 780
# bytes in 1.64 s (12,191 rows/s, 9.5 MB/s) on the project's 2-core machine (docs/api.md). Half
# of that is the rate assumed for a cold instance reading from BigQuery.
EXPORT_ROWS_PER_SECOND_ASSUMED = 6_000


def test_the_largest_export_streams_within_cloud_runs_request_timeout() -> None:
    """An export over the bound is refused before its first byte; one within it must finish
    before Cloud Run cuts the response (a cut 200 would look complete to a careless client)."""
    from bqingest.config import ApiSettings

    timeout = tf.load(str(tf.MODULES / "cloud_run_api")).variables["request_timeout_seconds"]
    bound = ApiSettings.model_fields["api_export_max_rows"].default
    assert bound / EXPORT_ROWS_PER_SECOND_ASSUMED <= timeout.default, (
        f"{bound} rows at {EXPORT_ROWS_PER_SECOND_ASSUMED}/s do not fit in {timeout.default}s"
    )


def test_bigquery_module_creates_one_typed_view_per_exported_file() -> None:
    """The typed views (tests/unit/contract/test_typed_views.py keeps the files current)."""
    module = tf.load(str(tf.MODULES / "bigquery"))
    typed = module.resources[("google_bigquery_table", "typed")]
    for_each = tf.unwrap(typed["for_each"])
    assert f'fileset("${{path.module}}/schemas/{TYPED_VIEWS_FOLDER}", "*.sql")' in for_each
    query = typed["view"][0]["query"]
    assert f"schemas/{TYPED_VIEWS_FOLDER}/${{each.value}}.sql" in query
    assert set(re.findall(r"[{,]\s*(\w+)\s*=", query)) == {"project", "dataset", "table"}
    assert "table = google_bigquery_table.events.table_id" in query
    assert typed["view"][0]["use_legacy_sql"] is False
    files = sorted((tf.MODULES / "bigquery" / "schemas" / TYPED_VIEWS_FOLDER).glob("*.sql"))
    assert files, "no typed view is exported"
    for path in files:
        assert set(re.findall(r"\$\{(\w+)\}", path.read_text())) == {"project", "dataset", "table"}
