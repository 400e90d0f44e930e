"""Refuse a Terraform plan that deletes or replaces data (standard library only).

    terraform show -json deploy.tfplan > plan.json
    python3 .ci/plan_gate.py plan.json [--allow-data-loss]

Reads ``resource_changes[].change.actions`` of the plan. A stateful resource is one whose
deletion loses data nobody can get back from this repository: a BigQuery dataset or table (a
view holds none), a Pub/Sub topic or subscription (its backlog, its retained messages) and a
Cloud Storage bucket. Any plan that deletes one, or replaces it (delete then create, or create
then delete), is refused with exit 1 and the list of what would go, unless
``--allow-data-loss`` is given: then the same list is printed as a warning and the gate passes.

``lifecycle { prevent_destroy = true }`` on those resources already stops a plan that would
destroy them; it cannot see a resource whose block was removed from the configuration (a
deleted module, a changed for_each key, a ``removed`` block), nor can dev turn it off. This
gate reads what the plan does, whatever the configuration says.

Prints Markdown for the job summary. A file that is not a plan is an error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

STATEFUL_TYPES = frozenset(
    {
        "google_bigquery_dataset",
        "google_bigquery_table",
        "google_pubsub_topic",
        "google_pubsub_subscription",
        "google_storage_bucket",
    }
)


class InputError(Exception):
    """The input is not a plan in Terraform's JSON format."""


def _is_view(change: dict[str, Any]) -> bool:
    """A BigQuery table resource that is a view (before and after): it stores no rows."""
    sides = [change.get("before"), change.get("after")]
    present = [side for side in sides if isinstance(side, dict)]
    return bool(present) and all(side.get("view") for side in present)


def data_losses(plan: Any) -> list[tuple[str, str]]:
    """(address, what happens) for each stateful resource the plan deletes or replaces."""
    if not isinstance(plan, dict) or (
        "resource_changes" not in plan and "format_version" not in plan
    ):
        raise InputError("not a plan: expected the output of terraform show -json PLANFILE")
    changes = plan.get("resource_changes") or []
    if not isinstance(changes, list):
        raise InputError("resource_changes is not a list")
    losses = []
    for resource in changes:
        if not isinstance(resource, dict) or resource.get("mode", "managed") != "managed":
            continue
        change = resource.get("change") or {}
        actions = change.get("actions") or []
        if resource.get("type") not in STATEFUL_TYPES or "delete" not in actions:
            continue
        if resource.get("type") == "google_bigquery_table" and _is_view(change):
            continue
        what = "replaced" if "create" in actions else "deleted"
        losses.append((str(resource.get("address", "?")), what))
    return losses


def report(losses: list[tuple[str, str]], *, allowed: bool) -> str:
    if not losses:
        return (
            "**Data**: the plan deletes and replaces no dataset, table, topic, subscription "
            "or bucket.\n"
        )
    lines = [f"- `{address}` would be **{what}**, and its data lost" for address, what in losses]
    if allowed:
        head = "**Data loss allowed by this run** (allow_data_loss): the plan goes ahead although"
    else:
        head = (
            "**Refused: the plan loses data.** Nothing was applied. If it is intended, run the "
            "deployment again by hand with allow_data_loss (docs/ci-cd.md#stateful-resources)."
        )
    return "\n".join([head, "", *lines, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="terraform show -json output of the plan")
    parser.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="let deletions and replacements of stateful resources through (printed as such)",
    )
    args = parser.parse_args(argv)
    try:
        try:
            plan = json.loads(args.plan.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{args.plan}: {exc}") from exc
        losses = data_losses(plan)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(losses, allowed=args.allow_data_loss))
    if losses and not args.allow_data_loss:
        for address, what in losses:
            print(f"::error::{address} would be {what}: refused (allow_data_loss)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
