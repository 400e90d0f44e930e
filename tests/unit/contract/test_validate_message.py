"""``validate_message`` gives ``parse_message``'s verdict on every message: the same events
accepted with the same values, the same ContractError (reason, message, field) for the rest.

``parse_message`` defines the contract (``test_events.py``); here the pipeline's faster entry
point is compared with it, on the contract's own examples and on generated messages, valid and
broken in the ways producers break them.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bqingest.contract import ContractError, MessageContext, Reason, event_row, parse_message
from bqingest.contract.fast_path import ValidEvent, valid_event, validate_message
from bqingest.source.generator import EventGenerator
from tests.conftest import PUBLISHED, context
from tests.unit.contract.test_events import structured

INGESTED = datetime(2026, 11, 29, 7, 0, 1, tzinfo=UTC)
BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "tick-1",
    "ce-source": "//cloudscheduler.googleapis.com/jobs/tick",
    "ce-type": "com.example.scheduler.tick",
    "content-type": "application/json",
}


def verdict(body: bytes, ctx: MessageContext, max_bytes: int) -> Any:
    """What parse_message makes of a message, in terms both functions can be compared on."""
    try:
        event = parse_message(body, ctx, max_bytes=max_bytes)
    except ContractError as error:
        return ("rejected", error.reason, error.message, error.field)
    return ("accepted", *_comparable(valid_event(event), ctx))


def fast_verdict(body: bytes, ctx: MessageContext, max_bytes: int) -> Any:
    try:
        event = validate_message(body, ctx, max_bytes=max_bytes)
    except ContractError as error:
        return ("rejected", error.reason, error.message, error.field)
    assert isinstance(event, ValidEvent)
    return ("accepted", *_comparable(event, ctx))


def _comparable(event: ValidEvent, ctx: MessageContext) -> tuple[Any, ...]:
    # The row holds data and extensions as JSON text, which tells 1, 1.0 and true apart (Python's
    # == does not) and keeps the extensions' order; the offset of time is compared on its own.
    return (event_row(event, ctx, ingested_at=INGESTED), event.time.utcoffset())


def assert_same_verdict(body: bytes, ctx: MessageContext, max_bytes: int = 1024 * 1024) -> None:
    assert fast_verdict(body, ctx, max_bytes) == verdict(body, ctx, max_bytes)


# -- the contract's own examples -------------------------------------------------------------

EXAMPLES = [
    pytest.param(structured(), None, id="valid"),
    pytest.param(structured(id=...), None, id="no-id"),
    pytest.param(structured(time=...), None, id="no-time"),
    pytest.param(structured(time=None, subject=None, data=None), None, id="nulls"),
    pytest.param(structured(traceparent="00-abc-01", partition=3, flag=True), None, id="ext"),
    pytest.param(structured(extensions="x", json="y"), None, id="ext-named-like-methods"),
    pytest.param(structured(time="2026-11-29t06:59:58z"), None, id="lowercase-time"),
    pytest.param(structured(time="1700000000"), None, id="epoch-string"),
    pytest.param(structured(time="2026-11-29T07:00:00.1234567Z"), None, id="7-digit-fraction"),
    pytest.param(structured(time="0001-01-01T00:00:00+01:00"), None, id="before-year-1"),
    pytest.param(structured(time="9999-12-31T23:59:59-01:00"), None, id="after-9999"),
    pytest.param(structured(time="2026-02-29T00:00:00Z"), None, id="no-leap-day"),
    pytest.param(structured(time="2026-11-29T07:00:00+00:60"), None, id="offset-minutes"),
    pytest.param(structured(id="id\n"), None, id="id-newline"),
    pytest.param(structured(id=None), None, id="null-id"),
    pytest.param(structured(id=""), None, id="empty-id"),
    pytest.param(structured(source=""), None, id="empty-source"),
    pytest.param(structured(specversion="1.0 "), None, id="specversion-space"),
    pytest.param(structured(subject=1), None, id="numeric-subject"),
    pytest.param(structured(region={"a": 1}), None, id="object-extension"),
    pytest.param(structured(ratio=0.5), None, id="float-extension"),
    pytest.param(structured(nothing=None), None, id="null-extension"),
    pytest.param(structured(Upper="v"), None, id="extension-name"),
    pytest.param(structured(data=..., data_base64="aGk="), None, id="data-base64"),
    pytest.param(structured(data=2**80), None, id="big-int"),
    pytest.param(structured(data={"x": 1e308, "y": -2.5e-300, "z": -0.0}), None, id="floats"),
    pytest.param(b'{"specversion":"1.0","source":"s","type":"t","data":NaN}', None, id="nan"),
    pytest.param(b'{"specversion":"1.0","source":"s","type":"t","data":[1e400]}', None, id="inf"),
    pytest.param(
        b'{"specversion":"1.0","source":"s","type":"t","source":"","id":"a","id":"b"}',
        None,
        id="duplicate-keys",
    ),
    pytest.param(b'\xef\xbb\xbf{"specversion":"1.0","source":"s","type":"t"}', None, id="bom"),
    pytest.param(b'{"specversion":"1.0","id":"\xff"}', None, id="not-utf8"),
    pytest.param(b'{"specversion":"1.0","source":"s","type":"t","data":"\\ud800"}', None, id="sur"),
    pytest.param(b"", None, id="empty"),
    pytest.param(b"[1]", None, id="array"),
    pytest.param(b"{bad", None, id="not-json"),
    pytest.param(b"{}", BINARY, id="binary"),
    pytest.param(b"", BINARY, id="binary-no-body"),
    pytest.param(b"null", BINARY, id="binary-null"),
    pytest.param(b"NaN", BINARY, id="binary-nan"),
    pytest.param(b"\xc3\x28", BINARY, id="binary-not-utf8"),
    pytest.param(b"<xml/>", BINARY, id="binary-not-json"),
    pytest.param(b"{}", {**BINARY, "ce-time": "2026-01-02T03:04:05Z", "ce-x1": "v"}, id="b-time"),
    pytest.param(b"{}", {**BINARY, "ce-time": "not a time"}, id="binary-bad-time"),
    pytest.param(b"{}", {**BINARY, "ce-id": "no spaces"}, id="binary-bad-id"),
    pytest.param(b"{}", {k: v for k, v in BINARY.items() if k != "ce-id"}, id="binary-no-id"),
    pytest.param(b"{}", {**BINARY, "ce-data": "x"}, id="binary-data-attribute"),
    pytest.param(b"{}", {**BINARY, "ce-datacontenttype": ""}, id="binary-empty-ce-type"),
    pytest.param("héllo".encode(), {**BINARY, "content-type": "text/plain"}, id="binary-text"),
    pytest.param(b"\xff", {**BINARY, "content-type": "text/plain"}, id="binary-text-bad"),
    pytest.param(b"\x00", {**BINARY, "content-type": "application/octet-stream"}, id="octets"),
    pytest.param(b"{}", {**BINARY, "ce-specversion": "0.3"}, id="binary-specversion"),
    pytest.param(b"{}", {"ce-type": "t"}, id="binary-missing"),
    pytest.param(b"[" * 150 + b"]" * 150, BINARY, id="binary-deep"),
    pytest.param(structured(data=json.loads("[" * 150 + "]" * 150)), None, id="deep"),
    pytest.param(structured(data=json.loads("[" * 250 + "]" * 250)), None, id="too-deep"),
]


@pytest.mark.parametrize(("body", "attributes"), EXAMPLES)
def test_same_verdict_on_the_contracts_examples(
    body: bytes, attributes: dict[str, str] | None
) -> None:
    assert_same_verdict(body, context(attributes))


def test_same_verdict_on_the_size_limit() -> None:
    body = structured()
    for limit in (len(body) - 1, len(body), len(body) + 1):
        assert_same_verdict(body, context(), max_bytes=limit)
    assert_same_verdict(b"{}", context(BINARY), max_bytes=50)


def test_valid_event_keeps_id_time_and_offset() -> None:
    event = validate_message(structured(id=...), context(message_id="987"))
    assert event.id == "987"
    assert event.time == datetime(2026, 11, 29, 5, 59, 58, 123456, tzinfo=UTC)
    assert event.extensions == {}
    assert validate_message(structured(time=...), context()).time == PUBLISHED


def test_rejections_carry_the_references_reason() -> None:
    with pytest.raises(ContractError) as caught:
        validate_message(structured(time="noon"), context())
    assert (caught.value.reason, caught.value.field) == (Reason.INVALID_TIME, "time")


def test_valid_event_needs_a_complete_event() -> None:
    with pytest.raises(ValueError, match="complete"):
        valid_event(parse_message(structured(), context()).model_copy(update={"id": None}))


def test_same_verdict_on_the_sources_mix() -> None:
    generator = EventGenerator(seed=14, malformed_fraction=0.3, duplicate_fraction=0.1)
    for n, message in enumerate(generator.batch(400)):
        assert_same_verdict(message.data, context(message.attributes, message_id=f"m{n}"))


# -- generated messages ----------------------------------------------------------------------

ID_CHARS = string.ascii_letters + string.digits + "._~:-"
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` three times in four: a message with one broken attribute is the common case.

    (``st.one_of`` flattens nested alternatives and draws among all of them evenly.)
    """
    return st.integers(0, 3).flatmap(lambda n: valid if n else other)


digits2 = st.integers(0, 99).map(lambda n: f"{n:02d}")
rfc3339_like = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, tz: f"{y:04d}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{tz}",
    st.integers(0, 9999),
    mostly(st.integers(1, 12).map(lambda n: f"{n:02d}"), digits2),
    mostly(st.integers(1, 28).map(lambda n: f"{n:02d}"), digits2),
    mostly(st.just("T"), st.sampled_from(["t", " ", "_"])),
    mostly(st.integers(0, 23).map(lambda n: f"{n:02d}"), digits2),
    mostly(st.integers(0, 59).map(lambda n: f"{n:02d}"), digits2),
    mostly(st.integers(0, 59).map(lambda n: f"{n:02d}"), digits2),
    st.sampled_from(["", ".5", ".123456", ".1234567", "."])
    | st.integers(0, 999999).map(lambda n: f".{n}"),
    mostly(
        st.sampled_from(["Z", "+00:00", "-00:00", "+01:00", "-05:30"]),
        st.sampled_from(["z", "", "+0100", "+01", "+24:00"])
        | st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"), digits2, digits2),
    ),
)
times = mostly(
    rfc3339_like | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=30) | json_scalars | st.sampled_from(["1700000000", "2026-11-29"]),
)
ids = mostly(
    st.text(alphabet=ID_CHARS, min_size=1, max_size=130),
    st.text(alphabet=ID_CHARS + " /\n'é", max_size=130) | json_scalars,
)
non_empty = mostly(st.text(min_size=1, max_size=10), st.sampled_from(["", "1.0"]) | json_scalars)
optional_strings = mostly(st.none() | st.text(max_size=10), json_scalars)
extension_names = mostly(
    st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True),
    st.sampled_from(
        ["Upper", "with-dash", "data_base64", "x" * 21, "extensions", "model_extra", "json", ""]
    ),
)
extension_values = mostly(
    st.text(max_size=8) | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70),
    json_values,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "specversion": mostly(st.just("1.0"), st.sampled_from(["1.0 ", "0.3", "1"]) | json_scalars),
        "id": ids,
        "source": non_empty,
        "type": non_empty,
        "subject": optional_strings,
        "time": times,
        "datacontenttype": optional_strings,
        "dataschema": optional_strings,
        "data": json_values,
    },
).flatmap(
    lambda envelope: st.dictionaries(extension_names, extension_values, max_size=3).map(
        lambda extensions: {**extensions, **envelope}
    )
)


def _encode(event: dict[str, Any], style: int) -> bytes:
    if style == 0:
        return json.dumps(event).encode()
    if style == 1:
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps(event, indent=1, sort_keys=True).encode()


COMPLETE = {"specversion": "1.0", "source": "s", "type": "t"}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, style=st.integers(0, 2), complete=st.booleans())
@example(event={"time": "2026-11-29T07:00:00+23:59"}, style=0, complete=True)
@example(event={"time": "2026-11-29T24:00:00Z"}, style=0, complete=True)
def test_same_verdict_on_generated_structured_events(
    event: dict[str, Any], style: int, complete: bool
) -> None:
    body = _encode({**COMPLETE, **event} if complete else event, style)
    assert_same_verdict(body, context())


@settings(max_examples=500, deadline=None)
@given(
    body=st.binary(max_size=40)
    | st.builds(lambda e, cut: _encode(e, 1)[:cut], events, st.integers(0, 200)),
    mutation=st.binary(max_size=3),
    where=st.integers(0, 200),
)
def test_same_verdict_on_broken_bytes(body: bytes, mutation: bytes, where: int) -> None:
    assert_same_verdict(body[:where] + mutation + body[where:], context())


attribute_values = st.text(max_size=12) | st.sampled_from(["", "1.0", "2026-11-29T07:00:00Z"])
content_types = st.sampled_from(
    [
        "application/json",
        "application/cloudevents+json; charset=utf-8",
        "text/json",
        "text/plain",
        "TEXT/CSV",
        "application/octet-stream",
        "",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(
    envelope=st.fixed_dictionaries(
        {},
        optional={
            "ce-specversion": st.just("1.0") | attribute_values,
            "ce-id": ids.filter(lambda value: isinstance(value, str)),
            "ce-source": attribute_values,
            "ce-type": attribute_values,
            "ce-subject": attribute_values,
            "ce-time": times.filter(lambda value: isinstance(value, str)),
            "ce-datacontenttype": content_types,
            "content-type": content_types,
        },
    ),
    extensions=st.dictionaries(
        extension_names.map(lambda name: f"ce-{name}") | st.sampled_from(["ce-data", "other"]),
        attribute_values,
        max_size=3,
    ),
    body=json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=20)
    | st.sampled_from([b"", b"NaN", b'{"x": -Infinity}', "é".encode()]),
)
def test_same_verdict_on_generated_binary_events(
    envelope: dict[str, str], extensions: dict[str, str], body: bytes
) -> None:
    attributes = {"ce-specversion": "1.0", **extensions, **envelope}
    assert_same_verdict(body, context(attributes))
