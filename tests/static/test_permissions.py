"""The permission matrix (tests/static/permissions/matrix.yaml) against what Terraform grants.

For each identity, the permissions its calls need must be in the roles Terraform grants it
(terraform/ is read, every *_iam_member resolved to the identity it names), on that resource or
on the project; every role granted must be needed by at least one of those permissions; the
deployer holds no project-wide power over service accounts or the workload identity pool; the
planner holds no permission that changes anything. Roles are expanded with
tests/static/permissions/roles.json (Google's IAM roles, see its `source`).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.static import terraform_config as tf

HERE = Path(__file__).parent / "permissions"
RUNTIME = ("api", "invoker", "pipeline", "reconcile")
# Where a resource type's permissions are needed (a grant there or on the project will do).
SCOPE_OF_TYPE = {
    "artifact_registry_repository": "repository",
    "bigquery_dataset": "dataset",
    "bigquery_table": "dataset",
    "cloud_run_v2_job": "job",
    "cloud_run_v2_service": "service",
    "pubsub_subscription": "subscription",
    "pubsub_topic": "topic",
    "secret_manager_secret": "secret",
    "storage_bucket": "bucket",
}
SCOPE_OF_BINDING = {
    "google_project_iam_member": "project",
    "google_bigquery_dataset_iam_member": "dataset",
    # table:NAME, NAME the google_bigquery_table it names (see _binding_scope)
    "google_bigquery_table_iam_member": "table",
    "google_pubsub_topic_iam_member": "topic",
    "google_pubsub_subscription_iam_member": "subscription",
    "google_storage_bucket_iam_member": "bucket",
    "google_artifact_registry_repository_iam_member": "repository",
    "google_secret_manager_secret_iam_member": "secret",
    "google_cloud_run_v2_service_iam_member": "service",
    "google_cloud_run_v2_job_iam_member": "job",
}
# Permissions that change something: the planner holds none.
WRITES = re.compile(
    r"\.(create\w*|update\w*|delete\w*|set\w+|patch|insert|undelete|enable|disable|actAs|"
    r"getAccessToken|getOpenIdToken|signBlob|signJwt|publish|consume|run|invoke|"
    r"uploadArtifacts|access|seek|attachSubscription|cancel|snapshot|restore|move|rename)$"
)
# What must never be granted on the whole project to the deployer: it would own every account
# of the project (a default compute account, its own) or its own trust.
PROJECT_WIDE_TAKEOVER = {
    "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.setIamPolicy",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.create",
    "iam.googleapis.com/workloadIdentityPools.update",
    "iam.googleapis.com/workloadIdentityPoolProviders.update",
    "iam.googleapis.com/workloadIdentityPoolProviders.create",
}


@cache
def matrix() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HERE / "matrix.yaml").read_text())
    return loaded


@cache
def roles() -> dict[str, frozenset[str]]:
    table = json.loads((HERE / "roles.json").read_text())["roles"]
    return {name: frozenset(role["permissions"]) for name, role in table.items()}


def permissions_of(role: str) -> frozenset[str]:
    if role not in roles():
        pytest.fail(f"{role} is not in permissions/roles.json: add it (see its source)")
    return roles()[role]


@dataclass(frozen=True)
class Grant:
    identity: str
    role: str
    scope: str
    conditional: bool = False
    # Made only when a variable asks for it (count = var.x ? 1 : 0), off by default.
    optional: bool = False


def identity_of_account() -> dict[str, str]:
    """google_service_account name (module iam) -> identity of the matrix."""
    return {
        spec["account"]: name
        for name, spec in matrix()["identities"].items()
        if "account" in spec and spec.get("granted_by") != "google"
    }


def identity_of_variable() -> dict[str, str]:
    """Root variable -> identity of the matrix it names (another environment's accounts)."""
    return {
        spec["granted_to"]: name
        for name, spec in matrix()["identities"].items()
        if "granted_to" in spec
    }


_MEMBER_REF = re.compile(r"module\.iam\.(\w+?)_(?:member|email)\b")
_TABLE_REF = re.compile(r"google_bigquery_table\.(\w+)\.table_id")


def _binding_scope(kind: str, body: dict[str, Any]) -> str:
    """Where a binding grants: its SCOPE_OF_BINDING, or table:NAME for one table."""
    scope = SCOPE_OF_BINDING[kind]
    if scope == "table":
        (table,) = _TABLE_REF.findall(json.dumps(body["table_id"]))
        return f"table:{table}"
    return scope


_ACCOUNT_REF = re.compile(r"google_service_account\.(\w+)\.(?:email|name)")


_VARIABLE_REF = re.compile(r"\bvar\.(\w+)")


def _identities_in(value: Any) -> list[str]:
    """Identities a module argument names (module.iam.X_member / X_email, or a root variable of
    another environment's accounts), in any shape."""
    accounts = identity_of_account()
    variables = identity_of_variable()
    text = json.dumps(value)
    return [accounts[m] for m in _MEMBER_REF.findall(text) if m in accounts] + [
        variables[v] for v in _VARIABLE_REF.findall(text) if v in variables
    ]


def _roles_of(body: dict[str, Any], config: tf.Config) -> list[str]:
    role = tf.unwrap(body["role"])
    if role == "each.value":
        local = re.fullmatch(r"toset\(local\.(\w+)\)", tf.unwrap(body["for_each"]))
        assert local, f"cannot resolve the roles of {body}"
        return list(config.locals[local.group(1)])
    return [role]


@cache
def grants() -> tuple[Grant, ...]:
    """Every grant terraform/ makes to an identity of the matrix."""
    found: list[Grant] = []
    accounts = identity_of_account()
    root = tf.load(str(tf.ROOT))
    iam = tf.load(str(tf.MODULES / "iam"))
    # Module iam names its accounts directly.
    for (kind, _name), body in iam.resources.items():
        member = json.dumps(body.get("member", ""))
        who = [accounts[a] for a in _ACCOUNT_REF.findall(member) if a in accounts]
        if not who:
            continue  # workload identity bindings name GitHub principals, not an identity
        conditional = "condition" in body
        optional = "count" in body
        if kind == "google_project_iam_member":
            for role in _roles_of(body, iam):
                found.append(Grant(who[0], role, "project", conditional, optional))
        elif kind == "google_service_account_iam_member":
            target = tf.unwrap(body["service_account_id"])
            if target == "each.value":
                targets = list(iam.locals[tf.unwrap(body["for_each"]).split(".", 1)[1]])
            else:
                targets = _ACCOUNT_REF.findall(target)
            for account in targets:
                found.append(Grant(who[0], body["role"], f"service_account:{account}"))
    # Other modules get members or emails from the root's module calls.
    for call, arguments in root.modules.items():
        if call == "iam":
            continue
        module = root.module_config(call)
        for (kind, _name), body in module.resources.items():
            if kind not in SCOPE_OF_BINDING:
                continue
            member = tf.unwrap(body["member"])
            if member == "each.value":
                # for_each = var.X, or toset(var.X)
                variable_ref = re.search(r"var\.(\w+)", tf.unwrap(body["for_each"]))
                assert variable_ref, f"module {call}: cannot resolve for_each of {body}"
                who = _identities_in(arguments.get(variable_ref.group(1), {}))
            else:
                variable_ref = re.search(r"var\.(\w+)", member)
                assert variable_ref, f"module {call}: cannot resolve member {member}"
                who = _identities_in(arguments.get(variable_ref.group(1), ""))
            for identity in who:
                found.append(Grant(identity, body["role"], _binding_scope(kind, body)))
    # The bootstrap's state bucket: the deployer writes, the planner reads, its own prefix only.
    bootstrap = tf.load(str(tf.BOOTSTRAP))
    for (kind, _name), body in bootstrap.resources.items():
        if kind == "google_storage_bucket_iam_member":
            variable = tf.unwrap(body["for_each"])
            identity = {"var.state_writers": "deployer", "var.state_readers": "planner"}[variable]
            found.append(Grant(identity, body["role"], "state", "condition" in body))
    return tuple(found)


def granted(identity: str) -> list[Grant]:
    return [g for g in grants() if g.identity == identity]


def covers(grant: Grant, scope: str) -> bool:
    if scope == "state":
        return grant.scope == "state"
    if scope.startswith("table:"):
        return grant.scope in (scope, "dataset", "project")
    return grant.scope in (scope, "project")


@dataclass(frozen=True)
class Need:
    permission: str
    scope: str
    why: str


def resource_needs(identity: str) -> list[Need]:
    """What terraform plan (planner) or apply (deployer) needs for the configuration's resources."""
    access = matrix()["identities"][identity].get("resource_access")
    if access is None:
        return []
    types = matrix()["resource_types"]
    needs: list[Need] = []
    for directory in tf.all_directories():
        if directory == tf.BOOTSTRAP:
            continue  # the bootstrap is applied by a person, once
        config = tf.load(str(directory))
        for (kind, name), body in config.resources.items():
            spec = types[kind]
            scope = next(
                (s for prefix, s in SCOPE_OF_TYPE.items() if kind.startswith(f"google_{prefix}")),
                "project",
            )
            person = spec.get("person", False)
            if kind == "google_service_account_iam_member":
                target = tf.unwrap(body["service_account_id"])
                accounts = (
                    list(config.locals["runtime_accounts"])
                    if target == "each.value"
                    else _ACCOUNT_REF.findall(target)
                )
                for account in accounts:
                    # Bindings on service accounts are a person's apply (person: true): the
                    # deployer administers no account, its own and the planner's least.
                    for permission in spec["plan"] + ([] if person else spec["apply"]):
                        if access == "apply" or permission in spec["plan"]:
                            why = f"{kind}.{name} on {account}"
                            needs.append(Need(permission, f"service_account:{account}", why))
                continue
            wanted = list(spec["plan"])
            if access == "apply" and not person:
                wanted += spec["apply"]
            needs += [Need(p, scope, f"{kind}.{name}") for p in wanted]
    return needs


def needs_of(identity: str) -> list[Need]:
    spec = matrix()["identities"][identity]
    calls = [
        Need(call["permission"], call["where"], call["method"])
        for call in spec["calls"]
        if call["permission"] != "none"
    ]
    return calls + resource_needs(identity)


# --- the matrix is complete and consistent --------------------------------------------------------


def test_every_resource_type_of_the_configuration_has_its_permissions() -> None:
    types = {
        kind
        for directory in tf.all_directories()
        if directory != tf.BOOTSTRAP
        for kind, _ in tf.load(str(directory)).resources
    }
    listed = set(matrix()["resource_types"])
    assert types == listed, f"missing: {sorted(types - listed)}, unused: {sorted(listed - types)}"


def test_every_service_account_is_an_identity_of_the_matrix() -> None:
    iam = tf.load(str(tf.MODULES / "iam"))
    accounts = {name for kind, name in iam.resources if kind == "google_service_account"}
    assert accounts == set(identity_of_account())


# --- each identity can do what its code does ------------------------------------------------------


def test_the_next_environment_may_read_this_registry_and_nothing_else() -> None:
    """Promotion by digest: the next environment's deployer and planner read this environment's
    images (to resolve a tag, to copy by digest) and get no other grant, nowhere else."""
    assert identity_of_variable() == {"image_promotion_readers": "next_environment"}
    assert tf.load(str(tf.ROOT)).variables["image_promotion_readers"].has_default
    assert granted("next_environment") == [
        Grant("next_environment", "roles/artifactregistry.reader", "repository")
    ]
    assert not [p for p in permissions_of("roles/artifactregistry.reader") if WRITES.search(p)]


@pytest.mark.parametrize("identity", sorted(matrix()["identities"]))
def test_the_roles_granted_contain_every_permission_needed(identity: str) -> None:
    spec = matrix()["identities"][identity]
    if spec.get("granted_by") == "google":
        held = permissions_of(spec["role"])
        missing = [n for n in needs_of(identity) if n.permission not in held]
        assert not missing, missing
        return
    mine = granted(identity)
    assert mine, f"Terraform grants {identity} nothing"
    missing = [
        f"{need.permission} on {need.scope} ({need.why})"
        for need in needs_of(identity)
        if not any(
            covers(g, need.scope) and need.permission in permissions_of(g.role) for g in mine
        )
    ]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    "identity",
    sorted(n for n, s in matrix()["identities"].items() if s.get("granted_by") != "google"),
)
def test_every_role_granted_is_needed(identity: str) -> None:
    """Nothing broader than needed: each role gives the identity at least one permission that
    one of its calls needs, where it needs it."""
    needs = needs_of(identity)
    unneeded = [
        f"{g.role} on {g.scope}"
        for g in granted(identity)
        if not g.optional
        and not any(covers(g, n.scope) and n.permission in permissions_of(g.role) for n in needs)
    ]
    assert not unneeded, unneeded


@pytest.mark.parametrize("identity", RUNTIME)
def test_runtime_identities_hold_no_admin_or_basic_role(identity: str) -> None:
    for grant in granted(identity):
        name = grant.role.removeprefix("roles/")
        assert not re.search(r"(?i)admin|^(owner|editor|viewer)$", name), grant
        iam_changes = [p for p in permissions_of(grant.role) if p.endswith(".setIamPolicy")]
        assert not iam_changes, (grant, iam_changes)


def test_the_planner_can_change_nothing() -> None:
    writes = sorted(
        {
            f"{p} ({g.role})"
            for g in granted("planner")
            for p in permissions_of(g.role)
            if WRITES.search(p)
        }
    )
    assert not writes, writes[:20]


def test_the_deployer_cannot_take_over_accounts_or_its_own_trust() -> None:
    project_wide = {
        p for g in granted("deployer") if g.scope == "project" for p in permissions_of(g.role)
    }
    assert not project_wide & PROJECT_WIDE_TAKEOVER, project_wide & PROJECT_WIDE_TAKEOVER
    # On single accounts: no IAM changes (it would grant itself token creation), no tokens
    # except the invoker's identity token; actAs where it attaches an account to a workload.
    on_accounts: dict[str, set[str]] = {}
    for g in granted("deployer"):
        if g.scope.startswith("service_account:"):
            on_accounts.setdefault(g.scope, set()).update(permissions_of(g.role))
    for scope, held in on_accounts.items():
        assert "iam.serviceAccounts.setIamPolicy" not in held, scope
        assert not held & {"iam.serviceAccounts.getAccessToken", "iam.serviceAccountKeys.create"}
    assert {s for s, held in on_accounts.items() if "iam.serviceAccounts.actAs" in held} == {
        "service_account:api_reader",
        "service_account:dataflow_worker",
        "service_account:reconcile",
    }
    # Project IAM only through the conditional binding (runtime roles only).
    (iam_admin,) = [
        g for g in granted("deployer") if g.role == "roles/resourcemanager.projectIamAdmin"
    ]
    assert iam_admin.conditional


# --- the API's matrix is what its code calls (defect 3) -------------------------------------------

# Client methods the API's code may call, and the permission each needs.
CLIENT_METHODS = {
    "query": "bigquery.jobs.create",
    "query_and_wait": "bigquery.jobs.create",
    "get_table": "bigquery.tables.get",
    "publish": "pubsub.topics.publish",
    "get_topic": "pubsub.topics.get",
    "test_iam_permissions": "none",
}


def api_client_calls() -> dict[str, set[str]]:
    """Method name -> files of src/bqingest/api (and the shared warehouse module) calling it."""
    package = tf.REPO / "src" / "bqingest"
    files = sorted((package / "api").rglob("*.py"))
    files += [p for p in (package / "warehouse.py",) if p.is_file()]
    calls: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLIENT_METHODS
            ):
                calls.setdefault(node.func.attr, set()).add(str(path.relative_to(tf.REPO)))
    return calls


# The API's readiness still calls topics.get until src/ asks topics.testIamPermissions instead
# (the API's part of this change, in src/, which this branch does not touch). Until then the
# test below is an expected failure; once src/ calls testIamPermissions it must pass.
_CALLS = api_client_calls()
READINESS_CHANGE_PENDING = "get_topic" in _CALLS and "test_iam_permissions" not in _CALLS


@pytest.mark.xfail(
    READINESS_CHANGE_PENDING,
    reason="src/bqingest/api readiness still calls topics.get (needs pubsub.topics.get, which "
    "roles/pubsub.publisher lacks): to be replaced by topics.testIamPermissions in src/",
    strict=True,
)
def test_the_api_needs_no_permission_its_roles_lack() -> None:
    """Each Google method the API's code calls needs a permission its roles grant. Readiness
    asks Pub/Sub with topics.testIamPermissions, which needs no permission; topics.get (which
    roles/pubsub.publisher does not grant) may remain only as the fallback for the local
    emulator, which does not implement testIamPermissions."""
    calls = api_client_calls()
    held = {p for g in granted("api") for p in permissions_of(g.role)}
    lacking = {
        method: CLIENT_METHODS[method]
        for method in calls
        if CLIENT_METHODS[method] not in ("none", *held)
    }
    if set(lacking) == {"get_topic"} and "test_iam_permissions" in calls:
        lacking = {}
    assert not lacking, (
        f"the API calls {sorted(lacking)}, needing {sorted(lacking.values())}, which its roles "
        f"do not grant (in {sorted(f for m in lacking for f in calls[m])})"
    )
    listed = {call["permission"] for call in matrix()["identities"]["api"]["calls"]}
    for method in calls:
        permission = CLIENT_METHODS[method]
        if method != "get_topic":
            assert permission in listed, f"{method} ({permission}) is not in the API's matrix"


def test_the_api_reads_only_the_events_it_serves() -> None:
    """Not the dead letters (their raw payloads): no grant on the dataset or the project lets
    the API read table data; its one data grant is on the events table."""
    reads = [g for g in granted("api") if "bigquery.tables.getData" in permissions_of(g.role)]
    assert reads and {g.scope for g in reads} == {"table:events"}, reads


def test_the_pipeline_can_append_but_run_no_query() -> None:
    """Appending needs bigquery.tables.updateData on the two tables; UPDATE, DELETE and MERGE
    are query jobs, which need bigquery.jobs.create: never granted to the pipeline, not even
    behind a variable. Its data roles are on those two tables, not the dataset."""
    held = {p for g in granted("pipeline") for p in permissions_of(g.role)}
    assert "bigquery.jobs.create" not in held
    data = {g.scope for g in granted("pipeline") if g.role.startswith("roles/bigquery.")}
    assert data == {"table:events", "table:dead_letters"}, data


def test_the_deployer_holds_storage_on_its_buckets_only() -> None:
    """storage.admin on the project would reach every bucket of it, the state bucket too when
    it lives there: the deployer's storage roles are on the Dataflow bucket and its own state."""
    for g in granted("deployer"):
        if g.scope == "project":
            assert not any(p.startswith("storage.") for p in permissions_of(g.role)), g
    assert any(g.scope == "bucket" and g.role == "roles/storage.admin" for g in granted("deployer"))


def test_every_file_the_matrix_names_exists() -> None:
    """The matrix is read as documentation too: a `code:` path that moved would mislead."""
    for name, identity in matrix()["identities"].items():
        for call in identity.get("calls", []):
            code = str(call["code"])
            if "/" in code or code.endswith((".py", ".tf", ".yml", ".yaml")):
                assert (tf.REPO / code).exists(), f"{name}: {code} does not exist"
