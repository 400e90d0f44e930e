"""The registry's fast accept never accepts what the JSON Schema validator refuses.

Generated data around each schema (values of the declared types at and across their bounds,
enum members and near misses, missing and extra properties, values of any other JSON type) for
the shipped schemas and one that uses every keyword the fast types support.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bqingest.contract.fast_types import accepts, fast_type
from bqingest.contract.registry import SchemaRegistry

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)

EVERY_KEYWORD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:every",
    "type": "object",
    "required": ["n", "tags", "ghost"],
    "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 5},
        "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
        "s": {"type": "string", "minLength": 2, "maxLength": 3},
        "e": {"type": "string", "enum": ["a", "b"]},
        "maybe": {"type": ["string", "null"]},
        "b": {"type": "boolean"},
        "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
        "o": {"type": "object", "required": ["k"], "properties": {"k": {"type": "integer"}}},
        "free": {"type": "object"},
        "list": {"type": "array"},
    },
}


def around(node: Any) -> st.SearchStrategy[Any]:
    """Values near what ``node`` accepts, and anything else."""
    if not isinstance(node, dict):
        return JSON
    kind = node.get("type")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    options: list[st.SearchStrategy[Any]] = [JSON]
    bounds = [
        node[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in node
    ]
    if kind == "integer":
        options += [st.integers(-3, 8), st.sampled_from([float(b) for b in bounds] or [1.0])]
    if kind == "number":
        options += [st.floats(-2, 10), st.sampled_from(bounds or [0]), st.integers(-2, 3)]
    if kind == "string":
        options += [st.text(max_size=5), st.sampled_from([*node.get("enum", []), "c", ""])]
    if kind == "boolean":
        options += [st.booleans(), st.sampled_from([0, 1])]
    if kind == "array":
        options.append(st.lists(around(node.get("items")), max_size=3))
    if kind == "object":
        options.append(objects(node))
    if isinstance(node.get("type"), list):
        options.append(st.none())
    return st.one_of(options)


def objects(node: dict) -> st.SearchStrategy[dict]:
    properties = node.get("properties") or {}
    names = sorted({*properties, *node.get("required", []), "extra"})
    return st.fixed_dictionaries(
        {},
        optional={name: around(properties.get(name)) for name in names},
    )


SCHEMAS = [s.document for s in SchemaRegistry.load().schemas] + [EVERY_KEYWORD]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s["$id"])
def test_every_shipped_schema_has_a_fast_type(schema: dict) -> None:
    assert fast_type(schema) is not None


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s["$id"])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_accept_implies_valid(schema: dict, data: st.DataObject) -> None:
    kind = fast_type(schema)
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    value = data.draw(st.one_of(objects(schema), JSON))
    if accepts(kind, value):
        assert validator.is_valid(value), value


@pytest.mark.parametrize(
    "node",
    [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^a"},
        {"type": ["string", "null"], "enum": ["a"]},
        {"type": ["string", "integer"]},
        {"type": "integer", "enum": [1, 2]},
        {"$ref": "#/$defs/x"},
        {"type": "object", "additionalProperties": True},
        {},
    ],
)
def test_a_keyword_it_cannot_express_means_no_fast_type(node: dict) -> None:
    schema = {"type": "object", "properties": {"p": node}}
    assert fast_type(schema) is None


def test_the_source_s_events_take_the_fast_path() -> None:
    """What the benchmark measures: valid events never reach the slower validator."""
    import json
    from datetime import UTC, datetime

    from bqingest.source.generator import EventGenerator

    registry = SchemaRegistry.load()
    now = datetime(2026, 11, 29, tzinfo=UTC)
    for message in EventGenerator(seed=3, clock=lambda: now, coupon_from=100).batch(500):
        if message.attributes:
            kind, data = message.attributes["ce-type"], json.loads(message.data)
        else:
            body = json.loads(message.data)
            kind, data = body["type"], body["data"]
        schema = registry.current(kind)
        assert schema is not None
        assert accepts(fast_type(schema.document), data), (kind, data)
