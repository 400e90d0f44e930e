"""The registered event types: their versions, typed columns and schemas, and ``data.<field>``
filters of the events listing resolved against them (docs/schemas.md).

Everything here reads the schema registry the API process loaded at start (the same folder and
rules as the pipeline's); nothing calls BigQuery.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from bqingest.api.errors import EventNotFound, InvalidInput
from bqingest.api.serializers.types import TypeColumn, TypeList, TypeSummary, TypeVersion
from bqingest.contract import Reason
from bqingest.contract.registry import EventSchema, SchemaRegistry
from bqingest.contract.typed_views import columns
from bqingest.warehouse.records import DataFilter

DATA_PREFIX: Final = "data."
MAX_DATA_FILTERS: Final = 5
_INT: Final = re.compile(r"-?[0-9]{1,19}")
_INT64: Final = (-(2**63), 2**63 - 1)


def _version(schema: EventSchema) -> TypeVersion:
    return TypeVersion(
        version=schema.major,
        dataschema=schema.id,
        view=schema.view,
        columns=[
            TypeColumn(name=c.name, type=c.type, pointer=c.pointer, filterable=c.scalar)
            for c in columns(schema)
        ],
    )


def _invalid(message: str, field: str, choices: list[str] | None = None) -> InvalidInput:
    return InvalidInput(message, field=field, reason=Reason.INVALID_VALUE.value, choices=choices)


def _value(raw: str, type_: str, field: str) -> Any:
    """A query string value as the column's type, or a 422 saying what was expected."""
    try:
        if type_ == "STRING":
            return raw
        if type_ == "INT64":
            if _INT.fullmatch(raw) and _INT64[0] <= int(raw) <= _INT64[1]:
                return int(raw)
        elif type_ == "FLOAT64":
            number = float(raw)
            if math.isfinite(number):
                return number
        elif type_ == "BOOL":
            if raw in ("true", "false"):
                return raw == "true"
        elif type_ == "TIMESTAMP":
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        elif type_ == "DATE":
            return date.fromisoformat(raw)
    except (ValueError, OverflowError):
        pass
    expected = {
        "INT64": "an integer",
        "FLOAT64": "a finite number",
        "BOOL": "true or false",
        "TIMESTAMP": "an RFC 3339 time with an offset",
        "DATE": "a date, YYYY-MM-DD",
    }[type_]
    raise _invalid(f"{field} must be {expected} ({type_})", field)


class TypesController:
    """Reads of the schema registry for ``/api/v1/types`` and the listing's data filters."""

    def __init__(self, schemas: SchemaRegistry) -> None:
        self._schemas = schemas
        self._list = TypeList(
            types=[
                TypeSummary(
                    type=name,
                    current_version=schemas.versions(name)[-1].major,
                    versions=[_version(s) for s in schemas.versions(name)],
                )
                for name in schemas.types()
            ]
        )

    def list_types(self) -> TypeList:
        return self._list

    def get_schema(self, event_type: str, version: int | None) -> Mapping[str, Any]:
        found = [s for s in self._schemas.versions(event_type) if version in (None, s.major)]
        if not found:
            what = f"{event_type} v{version}" if version is not None else event_type
            raise EventNotFound(f"no schema for {what} in the registry", field="type")
        return found[-1].document

    def data_filters(
        self, event_type: str | None, asked: Mapping[str, str]
    ) -> tuple[DataFilter, ...]:
        """``data.<field>=value`` query parameters as filters on the columns of ``event_type``'s
        current version; 422 for a field its schema does not declare as a scalar (listing the
        ones it does), a value of the wrong type, or no ``type`` to read them by."""
        if not asked:
            return ()
        first = next(iter(asked))
        if event_type is None:
            raise _invalid(f"{first} filters need ?type=: fields are declared per type", first)
        schema = self._schemas.current(event_type)
        if schema is None:
            raise _invalid(f"{event_type} has no schema in the registry: no data filters", "type")
        if len(asked) > MAX_DATA_FILTERS:
            raise _invalid(f"at most {MAX_DATA_FILTERS} data filters", first)
        declared = {c.pointer[1:]: c.type for c in columns(schema) if c.scalar}
        filters: list[DataFilter] = []
        for key, raw in asked.items():
            name = key[len(DATA_PREFIX) :]
            if name not in declared:
                choices = [DATA_PREFIX + n for n in declared]
                raise _invalid(
                    f"{key}: {event_type} v{schema.major} declares no scalar property {name!r}; "
                    f"filterable: {', '.join(choices) or 'none'}",
                    key,
                    choices,
                )
            filters.append(DataFilter(name, declared[name], _value(raw, declared[name], key)))
        return tuple(filters)
