"""Read Terraform's JSON output for the workflows (standard library only).

    terraform show -json > state.json            # the current state
    python3 .ci/terraform_report.py deployed state.json >> "$GITHUB_OUTPUT"
        api_image=...                               what Cloud Run runs now (absent: not deployed)
        pipeline_image=...                          the Dataflow job's SDK container (its image)
        dataflow_container_spec_gcs_path=...        the spec the Dataflow job was launched from

    terraform show -json tfplan > plan.json
    python3 .ci/terraform_report.py dataflow plan.json >> "$GITHUB_OUTPUT"
        action=create|update|replace|delete|no-op|absent   what the plan does to the Dataflow job
        changed=container_spec_gcs_path,parameters         its attributes that change
        other_changes=3                                    other resources the plan changes

    terraform show -no-color tfplan > plan.txt
    python3 .ci/terraform_report.py summary plan.txt --environment dev >> "$GITHUB_STEP_SUMMARY"

``deployed`` lets a pull request's plan compare the configuration with what runs (so the plan
shows infrastructure changes, not a new image); ``dataflow`` tells the deployment whether the
streaming job will be updated in place or replaced. A file that is not Terraform's JSON is an
error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

API_SERVICE = "module.cloud_run_api.google_cloud_run_v2_service.api"
DATAFLOW_JOB = "module.dataflow.google_dataflow_flex_template_job.pipeline"
SUMMARY_LIMIT = 60_000  # characters of plan text in a job summary (GitHub allows 1 MiB a step)
_PLAN_LINE = re.compile(
    r"^(Plan: .*|No changes\..*|Changes to Outputs:|You can apply this plan.*)$", re.M
)


class TerraformJsonError(Exception):
    """The input is not the JSON that ``terraform show -json`` prints."""


def load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise TerraformJsonError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise TerraformJsonError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or "format_version" not in document:
        raise TerraformJsonError(f"{path}: not the output of terraform show -json")
    return document


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def state_resources(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> attribute values of every managed resource in a state (empty when none)."""
    root = state.get("values", {}).get("root_module", {})
    return {
        resource["address"]: resource.get("values", {})
        for resource in _resources(root)
        if resource.get("mode", "managed") == "managed"
    }


def deployed(state: dict[str, Any]) -> dict[str, str]:
    """The image and template spec the environment runs now, as Terraform recorded them."""
    resources = state_resources(state)
    found: dict[str, str] = {}
    service = resources.get(API_SERVICE)
    if service:
        containers = (service.get("template") or [{}])[0].get("containers") or []
        if containers and containers[0].get("image"):
            found["api_image"] = containers[0]["image"]
    job = resources.get(DATAFLOW_JOB)
    if job and job.get("sdk_container_image"):
        found["pipeline_image"] = job["sdk_container_image"]
    if job and job.get("container_spec_gcs_path"):
        found["dataflow_container_spec_gcs_path"] = job["container_spec_gcs_path"]
    return found


def _action(actions: list[str]) -> str:
    if actions in (["delete", "create"], ["create", "delete"]):
        return "replace"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete", "no-op", "read"):
        return actions[0]
    raise TerraformJsonError(f"unexpected plan actions {actions}")


def _changed_attributes(change: dict[str, Any]) -> list[str]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    names = set(before) | set(after) | {k for k, v in unknown.items() if v}
    return sorted(n for n in names if before.get(n) != after.get(n) or unknown.get(n) is True)


def dataflow(plan: dict[str, Any]) -> dict[str, str]:
    """What the plan does to the streaming job, and how many other resources it changes."""
    if "resource_changes" not in plan and "planned_values" not in plan:
        raise TerraformJsonError("this is a state, not a plan (terraform show -json PLANFILE)")
    action, changed, others = "absent", "", 0
    for resource in plan.get("resource_changes", []):
        if resource.get("mode", "managed") != "managed":
            continue
        change = resource.get("change", {})
        current = _action(change.get("actions", ["no-op"]))
        if resource["address"] == DATAFLOW_JOB:
            action = current
            if current in ("update", "replace"):
                changed = ",".join(_changed_attributes(change))
        elif current not in ("no-op", "read"):
            others += 1
    return {"action": action, "changed": changed, "other_changes": str(others)}


def summary(plan_text: str, environment: str) -> str:
    """Markdown: the plan's verdict line, then the whole plan in a collapsed block."""
    verdicts = _PLAN_LINE.findall(plan_text)
    verdict = next((v for v in verdicts if v.startswith(("Plan:", "No changes"))), None)
    text = plan_text
    if len(text) > SUMMARY_LIMIT:
        text = text[:SUMMARY_LIMIT] + "\n… (truncated: the whole plan is in the job log)\n"
    longest_backticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest_backticks + 1)
    return "\n".join(
        [
            f"### Terraform plan: {environment}",
            "",
            f"**{verdict}**" if verdict else "**The plan printed no verdict line: see below.**",
            "",
            "<details><summary>Full plan</summary>",
            "",
            f"{fence}text",
            text.rstrip("\n"),
            fence,
            "",
            "</details>",
            "",
        ]
    )


def as_outputs(values: dict[str, str]) -> str:
    """``key=value`` lines for $GITHUB_OUTPUT; a value with a line break could forge another."""
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise TerraformJsonError(f"{key}: value has a line break: {value!r}")
    return "\n".join(f"{key}={value}" for key, value in values.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("deployed", help="image and spec in a state").add_argument(
        "state", type=Path
    )
    commands.add_parser("dataflow", help="the Dataflow job's planned action").add_argument(
        "plan", type=Path
    )
    summary_parser = commands.add_parser("summary", help="a plan's text as Markdown")
    summary_parser.add_argument("plan_text", type=Path)
    summary_parser.add_argument("--environment", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            print(summary(args.plan_text.read_text(), args.environment))
            return 0
        if args.command == "deployed":
            values = deployed(load(args.state))
        else:
            values = dataflow(load(args.plan))
        print(as_outputs(values))
    except (TerraformJsonError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
