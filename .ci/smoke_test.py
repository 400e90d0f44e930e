"""Smoke-test a deployed environment (standard library only; the deployment workflow runs it).

    python3 .ci/smoke_test.py event --id ID --source URL --commit SHA   # prints a CloudEvent
    SMOKE_ID_TOKEN=... [SMOKE_API_KEY=...] python3 .ci/smoke_test.py check --url URL --event-id ID

``check`` asserts, in order:

1. the service is private: a request without a token is refused (401/403) by Cloud Run;
2. ``/readyz`` answers 200 with the invoker's identity token (retried while a new revision
   starts);
3. ``GET /api/v1/{id}``: with an API key (SMOKE_API_KEY), the event ``event`` printed and the
   workflow published must come back (200, its id in the body) within the timeout, which proves
   Pub/Sub -> Dataflow -> BigQuery -> API end to end; without a key, the API must refuse the read
   with 401 (reads need a key when BQINGEST_PUBLIC_READ is false, as Terraform sets it).

Each check prints one line; the first failure ends the run with exit 1 and says what was
expected and what came back. When GITHUB_STEP_SUMMARY is set, the lines also go there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EVENT_TYPE = "dev.bqingest.smoke-test"
API_KEY_HEADER = "X-API-Key"


class SmokeTestFailed(Exception):
    """A check did not see what it expected."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def smoke_event(event_id: str, source: str, commit: str, now: datetime | None = None) -> str:
    """A structured-mode CloudEvent (docs/contract.md) the pipeline accepts, as JSON."""
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": EVENT_TYPE,
        "time": moment,
        "datacontenttype": "application/json",
        "data": {"commit": commit},
    }
    return json.dumps(event, separators=(",", ":"))


def request(url: str, headers: dict[str, str], timeout: float = 15.0) -> Reply:
    """GET url; any HTTP status is a Reply, only a transport failure raises."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SmokeTestFailed(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read())


def _contains_string(value: Any, wanted: str) -> bool:
    if isinstance(value, str):
        return value == wanted
    if isinstance(value, dict):
        return any(_contains_string(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(_contains_string(v, wanted) for v in value)
    return False


def poll(
    what: str,
    attempt: Callable[[], Reply],
    done: Callable[[Reply], bool],
    timeout: float,
    interval: float,
) -> Reply:
    """Call attempt until done(reply) or the timeout; then fail with the last reply seen."""
    deadline = time.monotonic() + timeout
    last: Reply | None = None
    last_error = ""
    while True:
        try:
            last = attempt()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            if done(last):
                return last
        if time.monotonic() + interval > deadline:
            seen = f"HTTP {last.status}: {last.body[:300]!r}" if last else last_error
            raise SmokeTestFailed(f"{what}: not seen within {timeout:.0f}s; last reply {seen}")
        time.sleep(interval)


def check(
    url: str,
    event_id: str,
    token: str,
    api_key: str | None,
    timeout: float,
    interval: float,
    report: Callable[[str], None],
) -> None:
    base = url.rstrip("/")
    bearer = {"Authorization": f"Bearer {token}"}

    anonymous = request(f"{base}/readyz", {})
    if anonymous.status not in (401, 403):
        raise SmokeTestFailed(
            f"the service answers without an identity token (HTTP {anonymous.status}); "
            "it must be private (roles/run.invoker for the invoker account only)"
        )
    report(f"- private: a request without a token gets HTTP {anonymous.status}")

    ready = poll(
        "/readyz 200",
        lambda: request(f"{base}/readyz", bearer),
        lambda r: r.status == 200,
        timeout,
        interval,
    )
    report(f"- `/readyz`: HTTP {ready.status} with the invoker's identity token")

    path = f"{base}/api/v1/{urllib.parse.quote(event_id, safe='')}"
    if api_key is None:
        refused = request(path, bearer)
        if refused.status != 401:
            raise SmokeTestFailed(
                f"GET /api/v1/{event_id} without an API key: expected 401, got HTTP "
                f"{refused.status}: {refused.body[:300]!r}"
            )
        report(
            "- `GET /api/v1/{id}` without an API key: HTTP 401 as configured "
            "(set SMOKE_API_KEY to check the whole path from Pub/Sub to the API)"
        )
        return

    def found(reply: Reply) -> bool:
        if reply.status in (401, 403):
            raise SmokeTestFailed(
                f"GET /api/v1/{event_id}: HTTP {reply.status}: the key is refused"
            )
        if reply.status != 200:
            return False
        try:
            return _contains_string(json.loads(reply.body), event_id)
        except json.JSONDecodeError as exc:
            raise SmokeTestFailed(f"GET /api/v1/{event_id}: HTTP 200 but not JSON ({exc})") from exc

    headers = {**bearer, API_KEY_HEADER: api_key}
    started = time.monotonic()
    poll(f"GET /api/v1/{event_id} 200", lambda: request(path, headers), found, timeout, interval)
    report(
        f"- `GET /api/v1/{event_id}`: the published event came back through Pub/Sub, Dataflow "
        f"and BigQuery after {time.monotonic() - started:.0f}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    event_parser = commands.add_parser("event", help="print the smoke-test CloudEvent")
    event_parser.add_argument("--id", required=True)
    event_parser.add_argument("--source", required=True)
    event_parser.add_argument("--commit", required=True)
    check_parser = commands.add_parser("check", help="check the deployed API")
    check_parser.add_argument("--url", required=True)
    check_parser.add_argument("--event-id", required=True)
    check_parser.add_argument("--timeout", type=float, default=600.0, help="seconds per check")
    check_parser.add_argument("--interval", type=float, default=10.0, help="seconds between tries")
    check_parser.add_argument(
        "--environment",
        default="local",
        help="dev, staging, prod: SMOKE_API_KEY is then required (only local may go without)",
    )
    args = parser.parse_args(argv)

    if args.command == "event":
        print(smoke_event(args.id, args.source, args.commit))
        return 0

    token = os.environ.get("SMOKE_ID_TOKEN", "")
    if not token:
        print("error: SMOKE_ID_TOKEN is not set (an identity token for the API)", file=sys.stderr)
        return 2
    api_key = os.environ.get("SMOKE_API_KEY") or None
    if api_key is None and args.environment != "local":
        # Without a key the check never reaches Dataflow or BigQuery: a broken pipeline would
        # deploy green.
        print(
            f"error: SMOKE_API_KEY is not set for {args.environment}: it is required outside "
            "local, so that an event is published and read back through the API",
            file=sys.stderr,
        )
        return 2
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")

    def report(line: str) -> None:
        print(line, flush=True)
        if summary_path:
            with open(summary_path, "a", encoding="utf-8") as summary:  # noqa: PTH123
                summary.write(line + "\n")

    report(f"### Smoke test of {args.url}")
    try:
        check(
            args.url,
            args.event_id,
            token,
            api_key,
            args.timeout,
            args.interval,
            report,
        )
    except (SmokeTestFailed, urllib.error.URLError, OSError) as exc:
        report(f"- **FAILED**: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
