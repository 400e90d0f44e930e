"""The Flex Template pieces agree with the pipeline's option contract."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bqingest.pipeline.options import PATTERNS

ROOT = Path(__file__).resolve().parents[3]
METADATA = json.loads((ROOT / "dataflow" / "metadata.json").read_text())
HADOLINT = ROOT / ".venv-tools" / "bin" / "hadolint"


def test_metadata_describes_every_dataflow_parameter_with_the_options_patterns() -> None:
    parameters = {p["name"]: p for p in METADATA["parameters"]}
    assert set(parameters) == set(PATTERNS)
    for name, parameter in parameters.items():
        assert parameter["label"] and len(parameter["helpText"]) > 40, name
        assert parameter["regexes"] == [PATTERNS[name]]
    assert [p["name"] for p in METADATA["parameters"] if not p["isOptional"]] == [
        "subscription",
        "events_table",
        "dead_letter_table",
    ]
    assert METADATA["streaming"] is True


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("subscription", "projects/my-proj/subscriptions/events-pipeline", "events-pipeline"),
        ("events_table", "my-proj.bqingest.events", "bqingest.events"),
        ("dead_letter_table", "my-proj.bqingest.dead_letters", "my-proj.bq-ingest.dl"),
        ("max_message_bytes", "1048576", "1MB"),
        ("dead_letter_payloads", "gs://acme-bqingest-dataflow/dead-letter-payloads", "s3://x/y"),
    ],
)
def test_the_patterns_accept_good_values_and_refuse_bad_ones(name, good, bad) -> None:
    assert re.fullmatch(PATTERNS[name], good)
    assert not re.fullmatch(PATTERNS[name], bad)


def test_the_launcher_defaults_to_dataflow() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("flex_main", ROOT / "dataflow" / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.launcher_argv(["--subscription=x"]) == [
        "--runner=DataflowRunner",
        "--subscription=x",
    ]
    assert module.launcher_argv(["--runner=Other"]) == ["--runner=Other"]


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint comes with .venv-tools (make tools)")
def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(HADOLINT), str(ROOT / "dataflow" / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
