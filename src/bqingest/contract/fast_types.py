"""A fast accept for the schema registry: msgspec types generated from JSON Schemas.

For a schema that uses only keywords msgspec expresses exactly (:data:`KEYWORDS`), :func:`fast_type`
builds a msgspec type that accepts a subset of what the schema accepts: ``msgspec.convert(data,
type)`` succeeding means the data is valid. It is the registry's first check; anything it does
not accept (an invalid event, or a valid one in a form it is stricter about, such as ``1.0`` for
an integer) goes to the compiled JSON Schema validator, which decides and words every rejection.
A schema with any other keyword (``format``, ``pattern``, ``$ref``, ``oneOf``...) gets no fast
type and is checked by the validator alone. ``tests/unit/contract/test_fast_types.py`` checks
"fast accepts => the validator accepts" on generated data.

Exactness, keyword by keyword: ``type`` string/integer/number/boolean/object/array (msgspec
refuses ``true`` for numbers, as JSON Schema does; accepts an integer for ``number``, as JSON
Schema does), a ``["T", "null"]`` pair, ``properties`` (unknown properties ignored, as the
registry's schemas allow them), ``required``, ``items``, ``enum`` of strings, ``minimum``,
``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``, ``maxLength`` (code
points in both), ``minItems``, ``maxItems``; annotations are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import msgspec

KEYWORDS: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        # annotations
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
    }
)
_SCALARS: Final[Mapping[str, Any]] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
}
_META: Final = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
}


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _type_of(node: Any, path: str) -> Any:
    if not isinstance(node, Mapping) or not set(node) <= KEYWORDS:
        raise ValueError(f"no exact msgspec type at #{path}")
    declared = node.get("type")
    nullable = False
    if isinstance(declared, list):
        kinds = [kind for kind in declared if kind != "null"]
        if len(kinds) != 1 or len(declared) != 2:  # exactly [T, "null"]
            raise ValueError(f"no exact msgspec type at #{path}")
        declared, nullable = kinds[0], True
    if not isinstance(declared, str):
        raise ValueError(f"no exact msgspec type at #{path}")
    if declared in _SCALARS:
        base: Any = _SCALARS[declared]
    elif declared == "object":
        base = _struct(node, path) if "properties" in node else dict[str, Any]
    elif declared == "array":
        item: Any = _type_of(node["items"], f"{path}/items") if "items" in node else Any
        base = list[item]
    else:
        raise ValueError(f"no exact msgspec type at #{path}")
    if "enum" in node:
        values = node["enum"]
        if (
            declared != "string"
            or nullable  # null passes the type but not an enum without null
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError(f"no exact msgspec type at #{path}")
        base = Literal[tuple(values)]
    constraints: dict[str, Any] = {}
    for keyword, meta in _META.items():
        if keyword in node:
            value = node[keyword]
            if not _number(value):
                raise ValueError(f"no exact msgspec type at #{path}")
            fits = {
                "ge": declared in ("integer", "number"),
                "le": declared in ("integer", "number"),
                "gt": declared in ("integer", "number"),
                "lt": declared in ("integer", "number"),
                "min_length": declared in ("string", "array"),
                "max_length": declared in ("string", "array"),
            }[meta]
            if not fits or (keyword.endswith(("Length", "Items")) and type(value) is not int):
                raise ValueError(f"no exact msgspec type at #{path}")
            constraints[meta] = value
    if constraints:
        base = Annotated[base, msgspec.Meta(**constraints)]
    return base | None if nullable else base


def _struct(node: Mapping[str, Any], path: str) -> Any:
    properties = node.get("properties") or {}
    required = node.get("required") or []
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        raise ValueError(f"no exact msgspec type at #{path}")
    names = list(properties) + [name for name in required if name not in properties]
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    for index, name in enumerate(names):
        field = f"f{index}"
        rename[field] = name
        kind = (
            _type_of(properties[name], f"{path}/properties/{name}") if name in properties else Any
        )
        if name in required:
            fields.append((field, kind))
        else:
            fields.append((field, kind | msgspec.UnsetType, msgspec.UNSET))
    fields.sort(key=lambda f: len(f) == 3)  # required fields first
    return msgspec.defstruct("Data", fields, rename=rename)


def fast_type(schema: Mapping[str, Any]) -> Any | None:
    """The msgspec type that accepts only data ``schema`` accepts, or None when the schema uses
    a keyword it cannot express exactly."""
    try:
        return _type_of(schema, "")
    except (ValueError, TypeError):  # a keyword or form it cannot express exactly
        return None


def accepts(kind: Any, data: Any) -> bool:
    """Whether the fast type accepts ``data`` (then the schema does too)."""
    try:
        msgspec.convert(data, kind)
    except msgspec.ValidationError:
        return False
    return True
