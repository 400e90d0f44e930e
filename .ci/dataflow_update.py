"""Why did the Dataflow job's update fail? (standard library only; the deployment workflow runs it)

    terraform apply ... 2>&1 | tee apply.log
    python3 .ci/dataflow_update.py new-job apply.log
        new_job_id=2026-11-30_04_12_56-1234567890      the replacement job the update launched
    gcloud dataflow jobs describe ID --format=json > job.json
    gcloud beta dataflow logs list ID --importance=error --format=json > messages.json
    python3 .ci/dataflow_update.py verdict job.json messages.json
        verdict=incompatible|outlasted|other
        reason=...
    gcloud dataflow jobs list --status=active --format=json > active.json
    python3 .ci/dataflow_update.py running-job active.json bqingest-pipeline
        running_job_id=...      (nothing when no active job has that name)

Terraform updates a Flex Template job by launching a replacement with ``update = true``; Dataflow
then checks that the running job's state can move to it. When it refuses, the replacement job
fails with an error message saying the new job is not compatible with the running one, and the
running job goes on untouched. That, and only that, is ``incompatible``: a replacement may then
be worth draining the running job for. Anything else (the launcher could not start the image,
the pipeline raised, the job was cancelled, no replacement job at all) is ``other``: the
running job must be left alone, and the deployment fails.

``outlasted``: the replacement job is still starting or already running. The provider waits a
fixed 20 minutes for it; past that the apply fails, the state keeps the old job's id, and once
Dataflow marks the old job updated every later plan creates the job again, which Dataflow
refuses with 409 (same name). The fix is to import the running job (docs/runbook.md), which
``running-job`` finds by name before an apply that would create it.

A file that is not what the command expects is an error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

# The provider's error when the replacement job does not reach JOB_STATE_RUNNING
# (resource_dataflow_flex_template_job.go, resourceDataflowFlexTemplateJobUpdate).
_NEW_JOB = re.compile(r'Error waiting for Job with job ID "([^"]+)" to be updated')
# How Dataflow words a refused update ("The new job is not compatible with <job id>. The
# original job has not been aborted.", followed by the causes).
_INCOMPATIBLE = (
    re.compile(r"new job is not compatible with", re.IGNORECASE),
    re.compile(r"original job has not been aborted", re.IGNORECASE),
)
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
FAILED = "JOB_STATE_FAILED"
# A replacement job in these states is still on its way: the update outlasted the provider's wait.
UNDER_WAY = frozenset(
    {"JOB_STATE_PENDING", "JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_RESOURCE_CLEANING_UP"}
)
ERROR = "JOB_MESSAGE_ERROR"


class InputError(Exception):
    """An input is not what the command reads."""


def new_job_id(apply_log: str) -> str:
    """The id of the replacement job a failed update launched."""
    found = _NEW_JOB.findall(apply_log)
    if not found:
        raise InputError(
            "terraform apply did not fail waiting for a replacement job: not a refused update"
        )
    job_id = str(found[-1])
    if not _JOB_ID.fullmatch(job_id):
        raise InputError(f"not a Dataflow job id: {job_id!r}")
    return job_id


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: {exc}") from exc


def verdict(job: Any, messages: Any) -> tuple[str, str]:
    """("incompatible" | "other", reason) for the replacement job and its messages."""
    if not isinstance(job, dict) or not isinstance(messages, list):
        raise InputError("expected the job (an object) and its messages (a list)")
    state = job.get("currentState") or job.get("state") or "unknown"
    errors = [
        str(message.get("messageText", ""))
        for message in messages
        if isinstance(message, dict) and message.get("messageImportance") == ERROR
    ]
    if state in UNDER_WAY:
        return (
            "outlasted",
            f"the replacement job is {state}: the update outlasted the provider's wait",
        )
    if state != FAILED:
        return "other", f"the replacement job is {state}, not failed by a compatibility check"
    for text in errors:
        if any(pattern.search(text) for pattern in _INCOMPATIBLE):
            return "incompatible", " ".join(text.split())[:500]
    first = " ".join(errors[0].split())[:500] if errors else "no error message"
    return "other", f"the replacement job failed, but not on compatibility: {first}"


def running_job(jobs: Any, name: str) -> str | None:
    """The id of the active job called name, from gcloud dataflow jobs list --format=json."""
    if not isinstance(jobs, list):
        raise InputError("expected a list of jobs (gcloud dataflow jobs list --format=json)")
    found = [str(j.get("id")) for j in jobs if isinstance(j, dict) and j.get("name") == name]
    for job_id in found:
        if not _JOB_ID.fullmatch(job_id):
            raise InputError(f"not a Dataflow job id: {job_id!r}")
    return found[0] if found else None


def as_outputs(values: dict[str, str]) -> str:
    """``key=value`` lines for $GITHUB_OUTPUT; line breaks are folded so none can forge one."""
    return "\n".join(f"{key}={' '.join(value.split())}" for key, value in values.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("new-job", help="the replacement job's id").add_argument(
        "apply_log", type=Path
    )
    verdict_parser = commands.add_parser("verdict", help="incompatible or other")
    verdict_parser.add_argument("job", type=Path)
    verdict_parser.add_argument("messages", type=Path)
    running_parser = commands.add_parser("running-job", help="the active job of that name")
    running_parser.add_argument("jobs", type=Path)
    running_parser.add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "new-job":
            try:
                log = args.apply_log.read_text()
            except OSError as exc:
                raise InputError(f"{args.apply_log}: {exc}") from exc
            print(as_outputs({"new_job_id": new_job_id(log)}))
        elif args.command == "running-job":
            job_id = running_job(_load(args.jobs), args.name)
            if job_id:
                print(as_outputs({"running_job_id": job_id}))
        else:
            kind, reason = verdict(_load(args.job), _load(args.messages))
            print(as_outputs({"verdict": kind, "reason": reason}))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
