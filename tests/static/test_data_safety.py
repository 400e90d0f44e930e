"""No silent data loss: stateful resources carry prevent_destroy, and the deployment's plan gate
(.ci/plan_gate.py) refuses a plan that deletes or replaces one unless the run allows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.static import delivery_config as dc
from tests.static import terraform_config as tf
from tests.static.test_ci_scripts import run_script

FIXTURE = Path(__file__).parent / "fixtures" / "plan_replaces_events_table.json"
STATEFUL = {
    "google_bigquery_dataset",
    "google_bigquery_table",
    "google_pubsub_topic",
    "google_pubsub_subscription",
    "google_storage_bucket",
}


def stateful_resources() -> list[tuple[str, str, str, dict[str, object]]]:
    found = []
    for directory in tf.all_directories():
        if directory == tf.BOOTSTRAP:
            continue  # the state bucket: a person's apply, force_destroy off (its own tests)
        for (kind, name), body in tf.load(str(directory)).resources.items():
            if kind in STATEFUL:
                found.append((directory.name, kind, name, body))
    return found


def test_the_gate_and_the_configuration_agree_on_what_is_stateful() -> None:
    text = (dc.REPO / ".ci" / "plan_gate.py").read_text()
    for kind in STATEFUL:
        assert f'"{kind}"' in text, kind
    assert {kind for _, kind, _, _ in stateful_resources()} == STATEFUL


@pytest.mark.parametrize(
    ("module", "kind", "name"),
    [(m, k, n) for m, k, n, _ in stateful_resources()],
    ids=[f"{m}.{k}.{n}" for m, k, n, _ in stateful_resources()],
)
def test_stateful_resources_carry_prevent_destroy(module: str, kind: str, name: str) -> None:
    """Data tables, the dataset, the topic, the subscription and the bucket; a view stores no
    rows and may be replaced (its query changes with the table)."""
    body = tf.load(str(tf.MODULES / module)).resources[(kind, name)]
    if "view" in body:
        return
    lifecycle = body.get("lifecycle", [{}])[0]
    assert lifecycle.get("prevent_destroy") is True, f"{kind}.{name} lacks prevent_destroy"


def test_the_gate_refuses_a_table_replacement(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = run_script("plan_gate.py", str(FIXTURE))
    summary.write_text(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "module.bigquery.google_bigquery_table.events` would be **replaced**" in result.stdout
    assert (
        "::error::module.bigquery.google_bigquery_table.events would be replaced" in result.stderr
    )
    # The view, the service's update and an IAM member's replacement lose no data.
    assert "events_dedup" not in result.stdout + result.stderr
    assert "cloud_run" not in result.stdout and "publishers" not in result.stdout


def test_the_gate_lets_an_explicit_override_through() -> None:
    result = run_script("plan_gate.py", str(FIXTURE), "--allow-data-loss")
    assert result.returncode == 0, result.stderr
    assert "Data loss allowed by this run" in result.stdout
    assert "google_bigquery_table.events` would be **replaced**" in result.stdout


@pytest.mark.parametrize(
    ("kind", "actions", "refused"),
    [
        ("google_pubsub_topic", ["delete"], True),
        ("google_pubsub_subscription", ["create", "delete"], True),
        ("google_storage_bucket", ["delete", "create"], True),
        ("google_bigquery_dataset", ["delete"], True),
        ("google_bigquery_dataset", ["update"], False),
        ("google_pubsub_subscription", ["no-op"], False),
        ("google_dataflow_flex_template_job", ["delete", "create"], False),
    ],
)
def test_the_gate_on_each_kind_and_action(
    tmp_path: Path, kind: str, actions: list[str], refused: bool
) -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": f"module.x.{kind}.r",
                "mode": "managed",
                "type": kind,
                "name": "r",
                "change": {"actions": actions, "before": {}, "after": {}},
            }
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = run_script("plan_gate.py", str(path))
    assert result.returncode == (1 if refused else 0), result.stdout + result.stderr


def test_the_gate_refuses_what_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"values": {}}))
    assert run_script("plan_gate.py", str(path)).returncode == 2
    path.write_text("not json")
    assert run_script("plan_gate.py", str(path)).returncode == 2


def test_pull_request_plans_are_gated_too() -> None:
    text = (dc.WORKFLOWS / "terraform.yml").read_text()
    assert "python3 .ci/plan_gate.py plan.json" in text and "--allow-data-loss" not in text
    assert '".ci/plan_gate.py"' in text


def test_the_deployment_gates_its_plan_and_only_a_manual_run_may_override() -> None:
    workflow = dc.load_yaml(dc.WORKFLOWS / "deployment.yml")
    dispatch = workflow["on"]["workflow_dispatch"]
    assert dispatch["inputs"]["allow_data_loss"]["default"] is False
    text = (dc.WORKFLOWS / "deployment.yml").read_text()
    assert "python3 .ci/plan_gate.py plan.json" in text
    # A push can never allow it: the flag comes from the manual run's input only.
    assert "inputs.allow_data_loss" in text


def test_teardown_takes_every_protected_resource_out_of_the_state() -> None:
    """prevent_destroy stops terraform destroy too: docs/deploy.md says how dev is torn down,
    naming each protected resource by its address in the root."""
    doc = (dc.REPO / "docs" / "deploy.md").read_text()
    assert "prevent_destroy" in doc and 'terraform state rm "$r"' in doc
    root = tf.load(str(tf.ROOT))
    calls = {
        str(body["source"]).removeprefix("./modules/"): call for call, body in root.modules.items()
    }
    for module, kind, name, body in stateful_resources():
        if "view" in body:
            continue
        assert f"module.{calls[module]}.{kind}.{name}" in doc, f"{kind}.{name}"
