"""Protocol-buffer rows for the Storage Write API, with the descriptor built from the contract.

The Storage Write API takes rows as serialized protocol buffers plus the descriptor that says how
to read them. Both come from :mod:`bqingest.contract.schema` at run time, so a column added to the
contract needs no ``.proto`` file and no code generation. Types follow BigQuery's mapping for
proto2 writers: STRING and JSON as ``string`` (JSON as its text), TIMESTAMP as ``int64``
microseconds since the epoch, BYTES as ``bytes``, INTEGER as ``int64``, BOOLEAN as ``bool``.
Every field is ``optional``: BigQuery enforces REQUIRED columns itself, and ``None`` is sent by
leaving the field unset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from bqingest.contract.schema import ColumnType, TableSpec

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND: Final = timedelta(microseconds=1)
_Field = descriptor_pb2.FieldDescriptorProto

_PROTO_TYPE: Final[Mapping[ColumnType, int]] = {
    "STRING": _Field.TYPE_STRING,
    "JSON": _Field.TYPE_STRING,
    "TIMESTAMP": _Field.TYPE_INT64,
    "BYTES": _Field.TYPE_BYTES,
    "INTEGER": _Field.TYPE_INT64,
    "BOOLEAN": _Field.TYPE_BOOL,
}


def timestamp_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: TIMESTAMP values must carry a time zone")
    return (value - _EPOCH) // _ONE_MICROSECOND


class ProtoRowSchema:
    """The proto2 descriptor of one table and an encoder from row dicts to serialized rows."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        message_name = "".join(part.capitalize() for part in spec.role.split("_")) + "Row"
        self.descriptor = descriptor_pb2.DescriptorProto(name=message_name)
        for number, column in enumerate(spec.columns, start=1):
            self.descriptor.field.add(
                name=column.name,
                number=number,
                type=_PROTO_TYPE[column.type],
                label=_Field.LABEL_OPTIONAL,
            )
        file_proto = descriptor_pb2.FileDescriptorProto(
            name=f"bqingest_{spec.role}.proto", package="bqingest.rows", syntax="proto2"
        )
        file_proto.message_type.add().CopyFrom(self.descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file_proto)
        self._message_class: type[message.Message] = message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"bqingest.rows.{message_name}")
        )
        self._columns = frozenset(spec.column_names)
        # Every other column type is given to protobuf as it is.
        self._timestamps = tuple(c.name for c in spec.columns if c.type == "TIMESTAMP")

    def encode(self, row: Mapping[str, Any]) -> bytes:
        """Serialize one row; ``None`` values are left unset. Raises ValueError/TypeError.

        Runs once per row the pipeline writes: the columns are checked with one set comparison
        and only TIMESTAMP values are converted (to microseconds).
        """
        if not row.keys() <= self._columns:
            unknown = sorted(set(row) - self._columns)
            raise ValueError(f"columns not in {self.spec.role}: {', '.join(unknown)}")
        fields = {name: value for name, value in row.items() if value is not None}
        for name in self._timestamps:
            value = fields.get(name)
            if value is not None:
                fields[name] = timestamp_micros(value)
        data: bytes = self._message_class(**fields).SerializeToString()
        return data

    def decode(self, data: bytes) -> dict[str, Any]:
        """The set fields of one serialized row, as proto values (for tests and debugging)."""
        parsed = self._message_class.FromString(data)
        return {field.name: value for field, value in parsed.ListFields()}


@cache
def schema_for(spec: TableSpec) -> ProtoRowSchema:
    """One ProtoRowSchema per table spec and process (building a descriptor pool is not free)."""
    return ProtoRowSchema(spec)
