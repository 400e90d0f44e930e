"""The schema registry: one JSON Schema (draft 2020-12) per event type and major version.

A registry is a folder (docs/schemas.md)::

    <folder>/<event type>/v<major>.json      e.g. com.bqingest.shop.order.created/v1.json

The demo types' schemas ship in ``bqingest/contract/schemas``; ``BQINGEST_SCHEMAS_DIR`` points
at a user's own folder instead. Each file's ``$id`` is the URI a producer names in the CloudEvents
``dataschema`` attribute. An event's schema is the one its ``dataschema`` names, or, when it
names none, the current (highest) major version of its ``type``.

Rules a schema must follow (:func:`lint`, run on every load and by ``bqingest schemas check``):

* ``$schema`` is draft 2020-12, ``$id`` is set and unique, the root is ``"type": "object"``;
* no ``additionalProperties: false`` or ``unevaluatedProperties: false`` anywhere: a producer
  may send a field the running pipeline's schema does not declare yet (it is stored, and becomes
  a typed column once the schema declares it: evolution never stops ingestion);
* ``$ref`` only to the schema itself (``#...``): a validator never fetches anything.

Validation (:meth:`SchemaRegistry.check`) uses ``jsonschema_rs``, a compiled validator: each
schema is compiled once, when the registry is built (once per pipeline worker, once per API
process). In front of it, a msgspec type generated from the schema accepts valid data at a
third of the cost when the schema's keywords allow one (:mod:`bqingest.contract.fast_types`);
every rejection still comes from the validator. Costs: docs/performance.md.

Compatibility (:func:`breaking_changes`): within a major version only annotations may change and
optional properties be added; removing a property, changing a keyword (``type``, ``format``...)
or making a property required needs a new major version (a new file, a new view beside the old).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
import msgspec

from bqingest.contract.errors import ContractError, Reason
from bqingest.contract.fast_types import fast_type
from bqingest.errors import BqingestError

logger = logging.getLogger(__name__)

SHIPPED_SCHEMAS: Final = Path(__file__).parent / "schemas"
"""The demo event types' schemas, shipped with the package."""
DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
DETAIL_CHARS: Final = 500
"""At most this much of the validator's message goes into a dead letter's detail."""

_FILE: Final = re.compile(r"v([1-9][0-9]{0,3})\.json")
_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_VIEW_PART: Final = re.compile(r"[^a-z0-9]+")
_convert: Final = msgspec.convert
ANNOTATIONS: Final = frozenset(
    {"title", "description", "examples", "$comment", "default", "deprecated", "readOnly"}
)
"""Keywords that change no verdict: editing them is compatible."""


class UnknownTypes(StrEnum):
    """What happens to an event whose type (or named ``dataschema``) has no schema."""

    STORE = "store"
    """Stored, its ``data`` untyped (the default)."""
    REJECT = "reject"
    """Dead-lettered as ``unknown_type`` (and refused by the API with a 422)."""


class SchemaError(BqingestError, ValueError):
    """A schema file or folder that breaks the registry's rules (:func:`lint`), or a schema
    asked for that the registry does not have."""


@dataclass(frozen=True, slots=True)
class EventSchema:
    """One event type's schema at one major version."""

    type: str
    major: int
    id: str
    document: Mapping[str, Any]
    path: str
    """Where it was read from, relative to the registry's folder (``<type>/v<major>.json``)."""

    @property
    def view(self) -> str:
        """The name of this version's typed view (:func:`view_name`)."""
        return view_name(self.type, self.major)


def view_name(event_type: str, major: int) -> str:
    """``events_<type without its first two labels>_v<major>``, lowercase, ``_`` for the rest.

    ``com.bqingest.shop.order.created`` v1 -> ``events_shop_order_created_v1``: the reverse-DNS
    owner (first two labels) is dropped, the rest names the view. A type of two labels or fewer
    keeps them all. :func:`lint` refuses two types that would share a view.
    """
    labels = event_type.lower().split(".")
    kept = labels[2:] if len(labels) > 2 else labels
    stem = _VIEW_PART.sub("_", "_".join(kept)).strip("_") or "type"
    return f"events_{stem}_v{major}"


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every subschema of ``node`` (objects only), with its JSON pointer in the document."""
    if isinstance(node, Mapping):
        yield pointer, node
        for key, value in node.items():
            if isinstance(value, Mapping | list):
                yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def lint(document: Any, *, where: str) -> list[str]:
    """Why ``document`` cannot be a registry schema (empty when it can)."""
    if not isinstance(document, dict):
        return [f"{where}: a schema is a JSON object"]
    problems: list[str] = []
    if document.get("$schema") != DIALECT:
        problems.append(f"{where}: $schema must be {DIALECT}")
    if not isinstance(document.get("$id"), str) or not document["$id"]:
        problems.append(f"{where}: $id (the URI producers name in dataschema) is required")
    if document.get("type") != "object":
        problems.append(f'{where}: the root must be "type": "object" (data is a JSON object)')
    for pointer, node in _walk(document):
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            if node.get(keyword) is False:
                problems.append(
                    f"{where}#{pointer}: {keyword}: false is not allowed (unknown fields must "
                    "pass, so producers can add a field before the schema declares it)"
                )
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            problems.append(f"{where}#{pointer}: $ref {ref!r} leaves the schema (only #... refs)")
    try:
        jsonschema_rs.meta.validate(document)
    except jsonschema_rs.ValidationError as exc:
        problems.append(f"{where}: not a valid JSON Schema: {exc.message[:200]}")
    except jsonschema_rs.ReferencingError as exc:
        problems.append(f"{where}: {exc}")
    return problems


def read_folder(folder: Path) -> dict[str, Any]:
    """Every ``<type>/v<major>.json`` under ``folder``, parsed: ``{relative path: document}``.

    Raises :class:`SchemaError` for a file that is not JSON or a misplaced ``.json`` file."""
    documents: dict[str, Any] = {}
    if not folder.is_dir():
        raise SchemaError(f"schema folder {folder} does not exist")
    for path in sorted(folder.rglob("*.json")):
        relative = path.relative_to(folder).as_posix()
        try:
            documents[relative] = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaError(f"{relative}: not JSON: {exc}") from None
    return documents


def schemas_from(documents: Mapping[str, Any]) -> list[EventSchema]:
    """The registry's schemas from ``{"<type>/v<major>.json": document}``; SchemaError if any
    file or the whole set breaks a rule (every problem listed)."""
    problems: list[str] = []
    schemas: list[EventSchema] = []
    for relative, document in sorted(documents.items()):
        parts = relative.split("/")
        match = _FILE.fullmatch(parts[-1]) if len(parts) == 2 else None
        if match is None or not _TYPE.fullmatch(parts[0]):
            problems.append(f"{relative}: schema files are <event type>/v<major>.json")
            continue
        found = lint(document, where=relative)
        if found:
            problems += found
            continue
        schemas.append(EventSchema(parts[0], int(match[1]), document["$id"], document, relative))
    seen_ids: dict[str, str] = {}
    seen_views: dict[str, str] = {}
    for schema in schemas:
        if schema.id in seen_ids:
            problems.append(f"{schema.path}: $id {schema.id} is also {seen_ids[schema.id]}'s")
        seen_ids[schema.id] = schema.path
        other = seen_views.get(schema.view)
        if other is not None and not other.startswith(f"{schema.type}/"):
            problems.append(f"{schema.path}: view {schema.view} is also {other}'s")
        seen_views[schema.view] = schema.path
    if problems:
        raise SchemaError("; ".join(problems))
    return schemas


def _pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class SchemaRegistry:
    """Validates events' ``data`` against their type's schema; each validator compiled once."""

    def __init__(
        self,
        schemas: Sequence[EventSchema],
        *,
        unknown_types: UnknownTypes = UnknownTypes.STORE,
        fast_accept: bool = True,
    ) -> None:
        self.schemas: tuple[EventSchema, ...] = tuple(
            sorted(schemas, key=lambda s: (s.type, s.major))
        )
        self.unknown_types = unknown_types
        self._by_id = {schema.id: schema for schema in self.schemas}
        self._current = {schema.type: schema for schema in self.schemas}  # sorted: last is highest
        self._fast = {
            schema.id: fast_type(schema.document) if fast_accept else None
            for schema in self.schemas
        }
        self._validators = {
            schema.id: jsonschema_rs.validator_for(dict(schema.document), validate_formats=True)
            for schema in self.schemas
        }

    @classmethod
    def load(
        cls, folder: Path | None = None, *, unknown_types: UnknownTypes = UnknownTypes.STORE
    ) -> SchemaRegistry:
        """The registry of ``folder`` (the shipped schemas when None)."""
        documents = read_folder(folder or SHIPPED_SCHEMAS)
        return cls(schemas_from(documents), unknown_types=unknown_types)

    def types(self) -> list[str]:
        return sorted(self._current)

    def versions(self, event_type: str) -> list[EventSchema]:
        return [schema for schema in self.schemas if schema.type == event_type]

    def current(self, event_type: str) -> EventSchema | None:
        """The type's highest major version: what an event that names no schema is checked by."""
        return self._current.get(event_type)

    def by_id(self, schema_id: str) -> EventSchema | None:
        return self._by_id.get(schema_id)

    def resolve(self, event_type: str, dataschema: str | None) -> EventSchema | None:
        """The schema an event is checked by: the one ``dataschema`` names (an unregistered
        ``dataschema`` is an unknown schema: None), else the type's current version."""
        if dataschema is not None:
            return self._by_id.get(dataschema)
        return self._current.get(event_type)

    def check(self, event_type: str, dataschema: str | None, data: Any) -> None:
        """Raise ContractError (``schema_violation``, ``unknown_type``) unless ``data`` may be
        stored: it satisfies its schema, or it has none and unknown types are stored."""
        schema = self._by_id.get(dataschema) if dataschema is not None else None
        if schema is None:
            if dataschema is None:
                schema = self._current.get(event_type)
            if schema is None:
                if self.unknown_types is UnknownTypes.REJECT:
                    raise _unknown(event_type, dataschema)
                return
        elif schema.type != event_type:
            raise ContractError(
                Reason.SCHEMA_VIOLATION,
                f"dataschema {dataschema} describes {schema.type}, not {event_type}"[:DETAIL_CHARS],
                field="dataschema",
            )
        fast = self._fast[schema.id]
        if fast is not None:  # accepted by the generated type: valid (contract.fast_types)
            try:
                _convert(data, fast)
                return
            except msgspec.ValidationError:
                pass
        validator = self._validators[schema.id]
        if validator.is_valid(data):
            return
        error = next(iter(validator.iter_errors(data)))
        raise violation(schema, error)


def violation(schema: EventSchema, error: jsonschema_rs.ValidationError) -> ContractError:
    """A ``schema_violation`` naming the JSON pointer in ``data``, the rule and the schema.

    ``field`` is the pointer into ``data`` (``/coupon``; ``""`` is ``data`` itself)."""
    pointer = _pointer(error.instance_path)
    rule = str(error.schema_path[-1]) if error.schema_path else "schema"
    rule_at = _pointer(error.schema_path)
    message = (
        f"data{pointer or ''} breaks the rule '{rule}' of {schema.id} (at #{rule_at}): "
        f"{error.message}"
    )
    if len(message) > DETAIL_CHARS:
        message = message[: DETAIL_CHARS - 3] + "..."
    return ContractError(Reason.SCHEMA_VIOLATION, message, field=pointer or "/")


def _unknown(event_type: str, dataschema: str | None) -> ContractError:
    if dataschema is not None:
        text = f"dataschema {dataschema} is not in the schema registry"
        return ContractError(Reason.UNKNOWN_TYPE, text[:DETAIL_CHARS], field="dataschema")
    text = f"type {event_type} has no schema in the registry"
    return ContractError(Reason.UNKNOWN_TYPE, text[:DETAIL_CHARS], field="type")


class RegistryLoader:
    """A folder's registry, read again when its files change (checked at most every
    ``refresh_seconds``), so a running pipeline picks up a schema change without a restart.

    A folder that stops being valid mid-run (a half-written file) keeps the last good registry
    and logs a warning; ingestion never stops for it. ``refresh_seconds=0`` never re-reads.
    """

    def __init__(
        self,
        folder: Path | None,
        *,
        unknown_types: UnknownTypes = UnknownTypes.STORE,
        refresh_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder or SHIPPED_SCHEMAS
        self._unknown_types = unknown_types
        self._refresh = refresh_seconds
        self._clock = clock
        self._stamp = self._files_stamp()
        self._registry = SchemaRegistry.load(self._folder, unknown_types=unknown_types)
        self._checked = clock()

    def _files_stamp(self) -> tuple[tuple[str, int, int], ...]:
        return tuple(
            (str(path), stat.st_mtime_ns, stat.st_size)
            for path in sorted(self._folder.rglob("*.json"))
            for stat in (path.stat(),)
        )

    def current(self) -> SchemaRegistry:
        """The registry; re-read first when ``refresh_seconds`` have passed and a file changed."""
        if self._refresh and self._clock() - self._checked >= self._refresh:
            self._checked = self._clock()
            try:
                stamp = self._files_stamp()
                if stamp != self._stamp:
                    registry = SchemaRegistry.load(self._folder, unknown_types=self._unknown_types)
                    self._registry, self._stamp = registry, stamp
                    logger.info("schema registry re-read from %s", self._folder)
            except (OSError, SchemaError) as exc:
                logger.warning(
                    "schema registry %s not re-read, kept as it was: %s", self._folder, exc
                )
        return self._registry


def breaking_changes(base: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What makes ``new`` (``{path: document}``) incompatible with ``base`` (the target branch).

    Within each ``<type>/v<major>.json`` that exists in ``base``: a removed file, a removed
    property, a changed keyword (``type``, ``format``, ``enum``, ``$id``...) or a property newly
    required is breaking; adding an optional property or editing annotations is not. A new file
    (a new type, or a new major version beside the old) is always allowed.
    """
    problems: list[str] = []
    for path, old in sorted(base.items()):
        if path not in new:
            problems.append(
                f"{path}: removed (its view would disappear): keep it while readers need it"
            )
            continue
        problems += [f"{path}{problem}" for problem in _diff(old, new[path], "")]
    return problems


def _diff(old: Any, new: Any, pointer: str) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"#{pointer}: changed"]
    problems: list[str] = []
    structural = {"properties", "required", "items", "$defs"}
    for key in sorted((set(old) | set(new)) - ANNOTATIONS - structural):
        if old.get(key) != new.get(key):
            problems.append(
                f"#{pointer}: '{key}' changed from {_short(old.get(key))} to {_short(new.get(key))}"
            )
    old_props: dict[str, Any] = old.get("properties") or {}
    new_props: dict[str, Any] = new.get("properties") or {}
    for name in sorted(old_props):
        if name not in new_props:
            problems.append(f"#{pointer}/properties/{name}: property removed")
        else:
            problems += _diff(old_props[name], new_props[name], f"{pointer}/properties/{name}")
    added_required = sorted(set(new.get("required") or ()) - set(old.get("required") or ()))
    for name in added_required:
        what = "made required" if name in old_props else "added as required"
        problems.append(f"#{pointer}/properties/{name}: {what}")
    for key in ("items", "$defs"):
        if key in old or key in new:
            problems += _diff(old.get(key), new.get(key), f"{pointer}/{key}")
    return problems


def _short(value: Any) -> str:
    text = "absent" if value is None else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
