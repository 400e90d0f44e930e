"""Turn a pytest JUnit XML report into the Markdown of a GitHub Actions job summary.

    python3 .ci/junit_summary.py reports/junit.xml >> "$GITHUB_STEP_SUMMARY"

Prints one table of counts (passed, failed, errors, skipped, total, seconds) and, when something
failed, a table of the failing tests with the first line of their message. Standard library only:
it runs on the runner's own Python, before or without the project's virtualenv. A missing or
malformed report is an error (exit 2), never an empty summary.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

MAX_LISTED = 50
MAX_MESSAGE = 200


class ReportError(Exception):
    """The report file is missing or is not a JUnit XML report."""


@dataclass
class Failure:
    """One failing or erroring test."""

    test: str
    kind: str
    message: str


@dataclass
class Counts:
    """What the report says happened."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped


def read_report(path: Path) -> Counts:
    """Count the test cases of a JUnit XML file (pytest writes ``<testsuites><testsuite>``)."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's report, not untrusted XML
    except FileNotFoundError as exc:
        raise ReportError(f"{path}: no such report (did the test step run?)") from exc
    except ET.ParseError as exc:
        raise ReportError(f"{path}: not XML ({exc})") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise ReportError(f"{path}: not a JUnit report (root element <{root.tag}>)")
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = Counts()
    for suite in suites:
        counts.seconds += float(suite.get("time", "0") or 0)
        for case in suite.iter("testcase"):
            _count_case(case, counts)
    return counts


def _count_case(case: ET.Element, counts: Counts) -> None:
    name = case.get("name", "?")
    classname = case.get("classname", "")
    test = f"{classname}::{name}" if classname else name
    for kind in ("failure", "error"):
        outcome = case.find(kind)
        if outcome is not None:
            if kind == "failure":
                counts.failed += 1
            else:
                counts.errors += 1
            message = outcome.get("message") or (outcome.text or "")
            counts.failures.append(Failure(test, kind, message))
            return
    if case.find("skipped") is not None:
        counts.skipped += 1
    else:
        counts.passed += 1


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, no pipes, no HTML."""
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if len(first_line) > MAX_MESSAGE:
        first_line = first_line[: MAX_MESSAGE - 1] + "…"
    return (
        first_line.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("`", "'")
    )


def render(counts: Counts, title: str) -> str:
    """The Markdown summary."""
    ok = counts.failed == 0 and counts.errors == 0
    lines = [
        f"### {title}: {'passed' if ok else 'FAILED'}",
        "",
        "| passed | failed | errors | skipped | total | seconds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {counts.passed} | {counts.failed} | {counts.errors} | {counts.skipped} "
        f"| {counts.total} | {counts.seconds:.1f} |",
        "",
    ]
    if counts.failures:
        lines += ["| test | outcome | message |", "| --- | --- | --- |"]
        for failure in counts.failures[:MAX_LISTED]:
            lines.append(f"| {_cell(failure.test)} | {failure.kind} | {_cell(failure.message)} |")
        hidden = len(counts.failures) - MAX_LISTED
        if hidden > 0:
            lines.append(f"| … and {hidden} more | | |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="JUnit XML file written by pytest --junitxml")
    parser.add_argument("--title", default="Tests", help="heading of the summary")
    args = parser.parse_args(argv)
    try:
        counts = read_report(args.report)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(counts, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
