"""The schema registry: its rules, its verdicts on data, its reloads and its compatibility check."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bqingest.contract import ContractError, Reason
from bqingest.contract.registry import (
    DETAIL_CHARS,
    SHIPPED_SCHEMAS,
    RegistryLoader,
    SchemaError,
    SchemaRegistry,
    UnknownTypes,
    breaking_changes,
    read_folder,
    schemas_from,
    view_name,
)
from bqingest.pipeline.processing import Destination, ReceivedMessage, process_message
from bqingest.source.generator import EVENT_TYPES, ORDER_CREATED, EventGenerator

NOW = datetime(2026, 11, 29, 7, tzinfo=UTC)
ORDER_FILE = f"{ORDER_CREATED}/v1.json"
ORDER_DATA = {
    "order_id": "1",
    "customer_id": "c",
    "currency": "EUR",
    "items": [{"sku": "A", "quantity": 1, "unit_price": 1.0}],
    "total": 1.0,
}


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


def test_every_demo_type_ships_with_a_schema(registry: SchemaRegistry) -> None:
    assert registry.types() == sorted(EVENT_TYPES)
    assert registry.current(ORDER_CREATED).view == "events_shop_order_created_v1"


def test_the_source_s_valid_events_satisfy_their_schemas(registry: SchemaRegistry) -> None:
    generated = EventGenerator(seed=7, clock=lambda: NOW).batch(2000)
    for n, message in enumerate(generated):
        received = ReceivedMessage(message.data, message.attributes, f"m{n}", NOW)
        row = process_message(received, max_bytes=1 << 20, now=NOW, schemas=registry)
        assert row.destination is Destination.EVENTS, row.row


def test_a_violation_names_the_pointer_the_rule_and_the_schema(registry: SchemaRegistry) -> None:
    with pytest.raises(ContractError) as caught:
        registry.check(ORDER_CREATED, None, {**ORDER_DATA, "items": [{"sku": "A", "quantity": 0}]})
    error = caught.value
    assert error.reason is Reason.SCHEMA_VIOLATION
    assert error.field in ("/items/0", "/items/0/quantity")
    assert registry.current(ORDER_CREATED).id in error.message


def test_the_detail_is_bounded_whatever_the_value(registry: SchemaRegistry) -> None:
    with pytest.raises(ContractError) as caught:
        registry.check(ORDER_CREATED, None, {**ORDER_DATA, "total": "9" * 100_000})
    assert caught.value.field == "/total"
    assert len(caught.value.message) <= DETAIL_CHARS


def test_unknown_fields_pass_so_producers_can_run_ahead(registry: SchemaRegistry) -> None:
    registry.check(ORDER_CREATED, None, {**ORDER_DATA, "gift_wrap": {"any": "shape"}})


def test_unknown_types_are_stored_or_rejected_as_the_setting_says() -> None:
    SchemaRegistry.load().check("com.example.nobody", None, {"x": 1})
    strict = SchemaRegistry.load(unknown_types=UnknownTypes.REJECT)
    with pytest.raises(ContractError) as caught:
        strict.check("com.example.nobody", None, {"x": 1})
    assert (caught.value.reason, caught.value.field) == (Reason.UNKNOWN_TYPE, "type")
    with pytest.raises(ContractError) as caught:
        strict.check(ORDER_CREATED, "https://elsewhere.example/x.json", ORDER_DATA)
    assert (caught.value.reason, caught.value.field) == (Reason.UNKNOWN_TYPE, "dataschema")


def test_dataschema_selects_the_schema_and_must_match_the_type(registry: SchemaRegistry) -> None:
    order = registry.current(ORDER_CREATED)
    registry.check(ORDER_CREATED, order.id, ORDER_DATA)
    with pytest.raises(ContractError) as caught:
        registry.check("com.bqingest.web.page.viewed", order.id, ORDER_DATA)
    assert (caught.value.reason, caught.value.field) == (Reason.SCHEMA_VIOLATION, "dataschema")


def test_a_schema_violation_is_dead_lettered_by_the_pipeline(registry: SchemaRegistry) -> None:
    body = {
        "specversion": "1.0",
        "id": "o-1",
        "source": "//s",
        "type": ORDER_CREATED,
        "data": {**ORDER_DATA, "currency": "XXX"},
    }
    message = ReceivedMessage(json.dumps(body).encode(), {}, "m-1", NOW)
    row = process_message(message, max_bytes=1 << 20, now=NOW, schemas=registry)
    assert row.destination is Destination.DEAD_LETTERS
    assert (row.row["reason"], row.row["error_field"]) == ("schema_violation", "/currency")
    assert "'enum'" in row.row["error_message"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"$id": "x", "type": "object"}, "$schema"),
        ({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}, "$id"),
        (
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "x",
                "type": "object",
                "additionalProperties": False,
            },
            "additionalProperties",
        ),
        (
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "x",
                "type": "object",
                "properties": {"a": {"$ref": "https://example.com/other.json"}},
            },
            "$ref",
        ),
    ],
)
def test_rules_of_a_registry_schema(document: dict, problem: str) -> None:
    with pytest.raises(SchemaError, match=problem.replace("$", r"\$")):
        schemas_from({"com.example.t/v1.json": document})


def test_files_are_type_folder_and_major_version() -> None:
    document = read_folder(SHIPPED_SCHEMAS)[ORDER_FILE]
    with pytest.raises(SchemaError, match=r"<event type>/v<major>\.json"):
        schemas_from({"order.json": document})


def test_view_names_follow_one_rule() -> None:
    assert view_name("com.bqingest.shop.order.created", 1) == "events_shop_order_created_v1"
    assert view_name("com.example.Page-Viewed", 2) == "events_page_viewed_v2"
    assert view_name("tick", 1) == "events_tick_v1"


def _with_gift_wrap(document: dict) -> dict:
    changed = copy.deepcopy(document)
    changed["properties"]["gift_wrap"] = {"type": "string"}
    return changed


def test_the_loader_rereads_a_changed_folder_without_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SHIPPED_SCHEMAS, folder)
    now = [0.0]
    loader = RegistryLoader(folder, refresh_seconds=5, clock=lambda: now[0])
    object_wrap = {**ORDER_DATA, "gift_wrap": {"colour": "red"}}
    loader.current().check(ORDER_CREATED, None, object_wrap)  # unknown field: passes
    path = folder / ORDER_FILE
    path.write_text(json.dumps(_with_gift_wrap(json.loads(path.read_text()))))
    loader.current().check(ORDER_CREATED, None, object_wrap)  # not yet re-read
    now[0] = 6.0
    with pytest.raises(ContractError) as caught:
        loader.current().check(ORDER_CREATED, None, object_wrap)
    assert caught.value.field == "/gift_wrap"
    path.write_text("{ half written")
    now[0] = 12.0
    with pytest.raises(ContractError):  # a broken folder keeps the last good registry
        loader.current().check(ORDER_CREATED, None, object_wrap)


class TestCompatibility:
    base = read_folder(SHIPPED_SCHEMAS)

    def changed(self, edit) -> dict:
        new = copy.deepcopy(self.base)
        edit(new[ORDER_FILE])
        return new

    def test_adding_an_optional_property_is_compatible(self) -> None:
        new = copy.deepcopy(self.base)
        new[ORDER_FILE] = _with_gift_wrap(new[ORDER_FILE])
        assert breaking_changes(self.base, new) == []

    def test_editing_annotations_is_compatible(self) -> None:
        new = self.changed(lambda d: d.update(description="new words"))
        assert breaking_changes(self.base, new) == []

    def test_removing_a_property_is_breaking(self) -> None:
        new = self.changed(lambda d: d["properties"].pop("total"))
        assert breaking_changes(self.base, new) == [
            f"{ORDER_FILE}#/properties/total: property removed"
        ]

    def test_changing_a_type_is_breaking(self) -> None:
        new = self.changed(lambda d: d["properties"]["total"].update(type="string"))
        (problem,) = breaking_changes(self.base, new)
        assert problem.startswith(f"{ORDER_FILE}#/properties/total: 'type' changed")

    def test_making_a_property_required_is_breaking(self) -> None:
        def edit(document: dict) -> None:
            document["properties"]["gift_wrap"] = {"type": "string"}
            document["required"].append("gift_wrap")

        assert breaking_changes(self.base, self.changed(edit)) == [
            f"{ORDER_FILE}#/properties/gift_wrap: added as required"
        ]

    def test_making_an_optional_property_required_is_breaking(self) -> None:
        new = self.changed(lambda d: d["required"].append("coupon"))
        assert breaking_changes(self.base, new) == [
            f"{ORDER_FILE}#/properties/coupon: made required"
        ]

    def test_a_new_major_version_beside_the_old_is_compatible(self) -> None:
        new = copy.deepcopy(self.base)
        v2 = copy.deepcopy(new[ORDER_FILE])
        v2["properties"]["total"] = {"type": "string"}
        v2["$id"] = "https://schemas.bqingest.example/shop/order-created/2.json"
        new[f"{ORDER_CREATED}/v2.json"] = v2
        assert breaking_changes(self.base, new) == []
        assert [s.major for s in schemas_from(new) if s.type == ORDER_CREATED] == [1, 2]

    def test_removing_a_version_is_breaking(self) -> None:
        new = copy.deepcopy(self.base)
        del new[ORDER_FILE]
        assert breaking_changes(self.base, new)[0].startswith(f"{ORDER_FILE}: removed")
