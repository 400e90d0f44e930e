"""Every resource and data block of terraform/ against the real google and google-beta schemas.

The schemas come from the provider version pinned in terraform/provider-schema.lock.json
(tests/static/provider_schema.py says how); the root and the bootstrap require exactly that
version, so what is validated here is what `terraform init` installs in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.static import provider_schema as ps
from tests.static import terraform_config as tf

DIRECTORIES = tf.all_directories()


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(tf.TERRAFORM)) for p in paths]


def declared_blocks(directory: Path) -> dict[tuple[str, str, str], str]:
    """(mode, type, name) -> provider of every resource and data block of a directory."""
    declared = {}
    for path in sorted(directory.glob("*.tf")):
        parsed = tf.parse_with_blocks(path)
        for kind, mode in (("resource", "resource"), ("data", "data")):
            for group in parsed.get(kind, []):
                for type_, instances in group.items():
                    if type_ == "__is_block__":
                        continue
                    for label, body in instances.items():
                        if label != "__is_block__":
                            declared[(mode, type_, label)] = ps.provider_of(body, type_)
    return declared


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_blocks_match_the_provider_schema(directory: Path) -> None:
    problems = ps.Problems()
    for path in sorted(directory.glob("*.tf")):
        ps.check_file(tf.parse_with_blocks(path), str(path.relative_to(tf.TERRAFORM)), problems)
    assert not problems.lines, "\n".join(problems.lines)


@pytest.mark.parametrize("directory", DIRECTORIES, ids=ids(DIRECTORIES))
def test_references_name_attributes_the_provider_exports(directory: Path) -> None:
    declared = declared_blocks(directory)
    problems = ps.Problems()
    for path in sorted(directory.glob("*.tf")):
        text = json.dumps(tf.parse(path))
        ps.check_references(text, declared, str(path.relative_to(tf.TERRAFORM)), problems)
    assert not problems.lines, "\n".join(problems.lines)


def test_the_configuration_requires_the_validated_provider_versions() -> None:
    """The roots install exactly the versions validated here; modules accept them."""
    pinned = {name: pin["version"] for name, pin in ps.pins().items()}
    for directory in DIRECTORIES:
        config = tf.load(str(directory))
        for block in config.terraform_blocks:
            for providers in block.get("required_providers", []):
                for name, requirement in providers.items():
                    version = requirement["version"]
                    if directory in tf.ROOTS:
                        assert version == pinned[name], f"{config.name}: {name} {version}"
                    else:
                        assert version == f"~> {pinned[name].rsplit('.', 1)[0]}", config.name


def test_validator_finds_unknown_missing_misshapen_and_dangling(tmp_path: Path) -> None:
    """The checks above can fail: each kind of mistake is found in a small configuration."""
    (tmp_path / "main.tf").write_text(
        'resource "google_pubsub_subscription" "s" {\n'
        '  name                  = "s"\n'
        "  ack_deadline_secs     = 10\n"
        "  dead_letter_policy = {\n"
        '    dead_letter_topic = "t"\n'
        "  }\n"
        "  labels {\n"
        '    a = "b"\n'
        "  }\n"
        "}\n\n"
        'resource "google_dataflow_flex_template_job" "j" {\n'
        "  provider                = google-beta\n"
        '  name                    = "j"\n'
        '  container_spec_gcs_path = "gs://b/t.json"\n'
        '  job_id                  = "x"\n'
        "}\n\n"
        'resource "google_monitoring_alert_policy" "p" {\n'
        '  display_name = "p"\n'
        '  combiner     = "OR"\n'
        "}\n\n"
        'output "o" {\n'
        "  value = google_pubsub_subscription.s.topic_name\n"
        "}\n"
    )
    problems = ps.Problems()
    ps.check_file(tf.parse_with_blocks(tmp_path / "main.tf"), "main.tf", problems)
    text = json.dumps(tf.parse(tmp_path / "main.tf"))
    ps.check_references(text, declared_blocks(tmp_path), "main.tf", problems)
    found = "\n".join(problems.lines)
    assert "unknown argument ack_deadline_secs" in found
    assert "missing required argument topic" in found
    assert "dead_letter_policy is a block" in found
    assert "labels is an attribute" in found
    assert "job_id is computed by the provider" in found
    assert "google_monitoring_alert_policy.p: missing required block conditions" in found
    assert "exports no attribute topic_name" in found
    assert len(problems.lines) == 7, found
