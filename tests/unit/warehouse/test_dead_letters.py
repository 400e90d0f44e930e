"""Dead-letter selection and fixes, without a warehouse (the end-to-end replay is integration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bqingest.contract import Reason, Stage
from bqingest.operations.dead_letters import REPLAY_ATTRIBUTE, Fix, ReplayError, replay
from bqingest.operations.dead_letters_view import selection
from bqingest.warehouse.dead_letters import Selection, _select_sql
from bqingest.warehouse.records import DeadLetter

T = datetime(2026, 11, 29, 7, tzinfo=UTC)
LETTER = DeadLetter(
    dead_letter_id="dl1",
    reason="missing_field",
    stage="parse",
    error_message="required attribute 'type' is missing",
    error_field="type",
    message_id="m1",
    publish_time=T,
    failed_at=T,
    replayed_at=None,
    attributes={"origin": "shop", "ce-old": "x"},
    raw_payload=b'{"specversion":"1.0"}',
    payload_bytes=21,
    payload_sha256=None,
    payload_truncated=False,
    payload_uri=None,
)


def test_a_fix_replaces_the_body_and_edits_attributes_and_marks_the_replay() -> None:
    data, attributes = Fix(
        payload=b"{}", set_attributes={"origin": "fixed"}, drop_attributes=("ce-old",)
    ).apply(LETTER)
    assert data == b"{}"
    assert attributes == {"origin": "fixed", REPLAY_ATTRIBUTE: "dl1"}
    data, attributes = Fix().apply(LETTER)
    assert data == LETTER.raw_payload
    assert attributes == {**LETTER.attributes, REPLAY_ATTRIBUTE: "dl1"}


def test_the_query_filters_with_parameters_and_hides_replayed_ones() -> None:
    sql, parameters = _select_sql(
        "p.d.dead_letters",
        Selection(ids=("a", "b"), reason=Reason.NOT_JSON, stage=Stage.PARSE, since=T, limit=5),
    )
    names = {p.name for p in parameters}
    assert names == {"limit", "ids", "reason", "stage", "since"}
    assert "_replayed IS NULL" in sql and "PARTITION BY dead_letter_id" in sql
    assert "not_json" not in sql  # values travel as parameters
    sql, _ = _select_sql("p.d.dead_letters", Selection(include_replayed=True))
    assert "_replayed IS NULL" not in sql


def test_a_replay_needs_a_selection() -> None:
    with pytest.raises(ReplayError, match="choose what to replay"):
        replay(None, None, table="p.d.t", topic_path="projects/p/topics/t", selection=Selection())  # type: ignore[arg-type]


def test_command_line_values_are_checked_against_the_contract() -> None:
    chosen = selection(reason="not_json", stage="sink", since=datetime(2026, 1, 1))
    assert (chosen.reason, chosen.stage, chosen.since) == (
        Reason.NOT_JSON,
        Stage.SINK,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ReplayError, match="unknown reason"):
        selection(reason="nope")
    with pytest.raises(ReplayError, match="unknown stage"):
        selection(stage="nope")
