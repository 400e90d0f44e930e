"""The google, google-beta and time provider schemas, and a validator of Terraform blocks.

No terraform binary or provider plugin runs here. The CDK for Terraform bindings published on
PyPI (``cdktf-cdktf-provider-google``, ``-google-beta``) are generated from a provider's schema
and carry it in a jsii assembly: one struct per block, its properties the block's arguments
(``optional`` or not), nested blocks typed as structs, and each resource class's getters the
attributes it exports (computed ones included). The version validated against is pinned in
``terraform/provider-schema.lock.json``; the wheel is downloaded with pip (no dependencies),
checked against its sha256, and reduced once to a small JSON schema in the test cache
(tests/static/cache.py). What the validator finds:

* an argument the block does not have, or a computed-only attribute that is set;
* a required argument or nested block that is missing;
* an attribute written as a block, or a block written as an attribute (``x = {...}``);
* a reference ``google_x.name.attr`` (or ``data.google_x.name.attr``) to an attribute the
  resource does not export.

It checks names and shapes, not value types: Terraform's own ``validate`` still runs in CI.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.static import cache as test_cache

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "terraform" / "provider-schema.lock.json"
META_ARGUMENTS = frozenset(
    {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}
)
_ANCHOR = re.compile(r"#([a-z0-9_]+) ")
_TYPE_LINK = re.compile(r"/docs/(resources|data-sources)/([a-z0-9_]+)[ }]")
_REFERENCE = re.compile(
    r"(?<![\w.\-/])(data\.)?((?:google|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([a-z_][a-z0-9_]*)"
)


def pins() -> dict[str, dict[str, str]]:
    """Provider name -> its pin (version, schema package and version, wheel sha256)."""
    providers: dict[str, dict[str, str]] = json.loads(LOCK.read_text())["providers"]
    return providers


# --- extraction ----------------------------------------------------------------------------------


def _wheel(pin: dict[str, str], into: Path) -> Path:
    """Download the pinned wheel (no dependencies) and check its hash."""
    requirement = into / "requirement.txt"
    requirement.write_text(
        f"{pin['schema_package']}=={pin['schema_package_version']} "
        f"--hash=sha256:{pin['wheel_sha256']}\n"
    )
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--require-hashes", "--dest", str(into),
            "--requirement", str(requirement),
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"could not download {pin['schema_package']}=={pin['schema_package_version']} "
            f"from PyPI (needed once, then cached): {result.stderr[-2000:]}"
        )
    (wheel,) = into.glob("*.whl")
    return wheel


def _assembly(wheel: Path) -> dict[str, Any]:
    """The jsii assembly inside the wheel: _jsii/*.jsii.tgz -> package/.jsii."""
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        packed = archive.read(member)
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tgz:
        handle = tgz.extractfile("package/.jsii")
        assert handle is not None
        assembly: dict[str, Any] = json.load(handle)
    return assembly


def _snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def _terraform_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    for text in (docs.get("remarks", ""), docs.get("summary", "")):
        match = _ANCHOR.search(text)
        if match:
            return match.group(1)
    return _snake(prop["name"])


def _struct_of(type_: dict[str, Any], types: dict[str, Any]) -> tuple[str | None, bool]:
    """(struct fqn, repeated) when the property is a nested block; (None, False) otherwise."""
    candidates = type_.get("union", {}).get("types", [type_])
    for candidate in candidates:
        collection = candidate.get("collection")
        if collection and collection["kind"] == "array":
            element = collection["elementtype"].get("fqn")
            if element and types.get(element, {}).get("datatype"):
                return element, True
        fqn = candidate.get("fqn")
        if fqn and types.get(fqn, {}).get("datatype"):
            return fqn, False
    return None, False


def _block(fqn: str, types: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        name = _terraform_name(prop)
        required = not prop.get("optional", False)
        struct, repeated = _struct_of(prop["type"], types)
        if struct is not None and depth < 12:
            blocks[name] = {
                "required": required,
                "repeated": repeated,
                "block": _block(struct, types, depth + 1),
            }
        else:
            attributes[name] = {"required": required}
    return {"attributes": attributes, "blocks": blocks}


def _reduce(assembly: dict[str, Any], prefix: str = "google") -> dict[str, Any]:
    """Every resource and data source: arguments, nested blocks, exported attributes.

    ``prefix`` is the provider's type prefix (google for google and google-beta, time)."""
    types = assembly["types"]
    reduced: dict[str, Any] = {"resources": {}, "data_sources": {}}
    for fqn, type_ in types.items():
        if type_.get("kind") != "class":
            continue
        link = _TYPE_LINK.search(type_.get("docs", {}).get("summary", ""))
        if not link:
            continue
        config = types.get(fqn + "Config")
        if config is None:
            continue
        schema = _block(fqn + "Config", types)
        exported = {
            _snake(p["name"])
            for p in type_.get("properties", [])
            if not p.get("static") and not p["name"].endswith("Input")
        }
        schema["exported"] = sorted(exported | set(schema["attributes"]) | {"id"})
        kind = "resources" if link.group(1) == "resources" else "data_sources"
        # The google bindings link the registry's page name (pubsub_topic), the beta ones the
        # type name (google_pubsub_topic); Terraform's type name always has the prefix.
        page = link.group(2)
        name = page if page.startswith(f"{prefix}_") else f"{prefix}_{page}"
        reduced[kind][name] = schema
    return reduced


@cache
def schema(provider: str) -> dict[str, Any]:
    """The reduced schema of one pinned provider (google or google-beta), cached on disk."""
    pin = pins()[provider]
    where = test_cache.directory("provider-schema")
    target = where / f"{provider}-{pin['version']}-{pin['wheel_sha256'][:16]}.json"
    if not target.is_file():
        download = test_cache.directory("provider-schema", f"download-{provider}")
        for old in download.glob("*.whl"):
            old.unlink()
        reduced = _reduce(_assembly(_wheel(pin, download)), type_prefix(provider))
        reduced["provider"] = {"name": provider, **pin}
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(reduced, sort_keys=True))
        partial.replace(target)
        for wheel in download.glob("*.whl"):
            wheel.unlink()
    loaded: dict[str, Any] = json.loads(target.read_text())
    return loaded


# --- validation ----------------------------------------------------------------------------------


@dataclass
class Problems:
    """What the validator found, as 'where: what' lines."""

    lines: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.lines.append(f"{where}: {what}")


def _is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get("__is_block__") for item in value)
    )


def _dynamic_names(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``dynamic "name" { content { ... } }`` -> name -> the content blocks."""
    found: dict[str, list[dict[str, Any]]] = {}
    for dynamic in body.get("dynamic", []):
        for name, spec in dynamic.items():
            if name == "__is_block__":
                continue
            found.setdefault(name, []).extend(spec.get("content", []))
    return found


def check_block(
    body: dict[str, Any], block: dict[str, Any], where: str, problems: Problems, *, top: bool
) -> None:
    """Compare one parsed block (python-hcl2, explicit_blocks=True) with its schema."""
    dynamic = _dynamic_names(body)
    exported_only = set(block.get("exported", [])) - set(block["attributes"]) - set(block["blocks"])
    for name, value in body.items():
        if name in ("__is_block__", "dynamic") or (top and name in META_ARGUMENTS):
            continue
        if name in block["attributes"]:
            if _is_block(value):
                problems.add(where, f"{name} is an attribute: write `{name} = ...`, not a block")
            continue
        if name in block["blocks"]:
            if not _is_block(value):
                problems.add(where, f"{name} is a block: write `{name} {{ ... }}`, not `{name} =`")
                continue
            spec = block["blocks"][name]
            if len(value) > 1 and not spec["repeated"]:
                problems.add(where, f"{name} may appear once")
            for index, item in enumerate(value):
                check_block(item, spec["block"], f"{where}.{name}[{index}]", problems, top=False)
            continue
        if name in exported_only:
            problems.add(where, f"{name} is computed by the provider and cannot be set")
        else:
            problems.add(where, f"unknown argument {name}")
    for name, contents in dynamic.items():
        if name not in block["blocks"]:
            problems.add(where, f"dynamic {name}: no such block")
            continue
        for index, item in enumerate(contents):
            check_block(
                item,
                block["blocks"][name]["block"],
                f"{where}.dynamic.{name}[{index}]",
                problems,
                top=False,
            )
    for name, spec in block["attributes"].items():
        if spec["required"] and name not in body and name != "id":
            problems.add(where, f"missing required argument {name}")
    for name, spec in block["blocks"].items():
        if spec["required"] and name not in body and name not in dynamic:
            problems.add(where, f"missing required block {name}")


def type_prefix(provider: str) -> str:
    """The prefix of the provider's type names: google for google and google-beta."""
    return provider.split("-")[0]


def provider_of(body: dict[str, Any], type_: str = "google_") -> str:
    """The provider of a block: by its type's prefix (time_sleep: time), then google-beta when
    the block names that provider (``provider = google-beta``)."""
    if type_.startswith("time_"):
        return "time"
    provider = str(body.get("provider", "google")).removeprefix("${").removesuffix("}")
    return provider.split(".")[0]


def check_file(parsed: dict[str, Any], name: str, problems: Problems) -> None:
    """Every resource and data block of one parsed file."""
    for kind, schema_key, prefix in (
        ("resource", "resources", ""),
        ("data", "data_sources", "data."),
    ):
        for group in parsed.get(kind, []):
            for type_, instances in group.items():
                if type_ == "__is_block__":
                    continue
                for label, body in instances.items():
                    if label == "__is_block__":
                        continue
                    where = f"{name}: {prefix}{type_}.{label}"
                    known = schema(provider_of(body, type_))[schema_key]
                    if type_ not in known:
                        problems.add(where, f"the provider has no {kind} type {type_}")
                        continue
                    check_block(body, known[type_], where, problems, top=True)


def check_references(
    text: str, declared: dict[tuple[str, str, str], str], where: str, problems: Problems
) -> None:
    """Every ``[data.]google_x.name.attr`` in text names an attribute the type exports.

    ``declared`` maps (mode, type, name) to the provider the block uses."""
    for match in _REFERENCE.finditer(text):
        mode = "data" if match.group(1) else "resource"
        type_, label, attribute = match.group(2), match.group(3), match.group(4)
        provider = declared.get((mode, type_, label))
        if provider is None:
            continue  # an undeclared block: the reference checks of test_terraform.py say so
        key = "data_sources" if mode == "data" else "resources"
        block = schema(provider)[key].get(type_)
        if block is None:
            continue
        if attribute not in block["exported"] and attribute not in block["blocks"]:
            problems.add(where, f"{type_} exports no attribute {attribute}")
