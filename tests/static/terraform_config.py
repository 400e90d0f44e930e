"""Read the Terraform configuration under ``terraform/`` without the terraform binary.

python-hcl2 parses each file; this module turns a directory into a ``Config`` (variables,
outputs, locals, resources, data sources, module calls) and finds the references its expressions
make, so tests can check that every reference resolves. Layout is left to ``terraform fmt``,
which CI runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
# One root serves every environment: its shared values in terraform.tfvars, each environment's
# own in envs/ENV.tfvars and its state prefix in envs/ENV.gcs.tfbackend.
ROOT = TERRAFORM
ENVS = TERRAFORM / "envs"
BOOTSTRAP = TERRAFORM / "bootstrap"
ENVIRONMENTS = ("dev", "staging", "prod")

# Meta-arguments of a module block: not variables of the called module.
MODULE_META_ARGUMENTS = frozenset(
    {"source", "version", "providers", "depends_on", "count", "for_each"}
)

_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
_REF = r"(?<![\w.\-/])"
VAR_REF = re.compile(_REF + r"var\.([A-Za-z_][\w-]*)")
LOCAL_REF = re.compile(_REF + r"local\.([A-Za-z_][\w-]*)")
MODULE_REF = re.compile(_REF + r"module\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?")
DATA_REF = re.compile(_REF + r"data\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)")
RESOURCE_REF = re.compile(_REF + r"((?:google(?:-beta)?|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


_BLOCK_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=True, with_comments=False
)


def parse(path: Path) -> dict[str, Any]:
    """One .tf or .tfvars file as plain Python values (strings unquoted, no comments)."""
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


def parse_with_blocks(path: Path) -> dict[str, Any]:
    """As :func:`parse`, but every block carries ``__is_block__``: blocks and attributes differ."""
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=_BLOCK_OPTIONS)


def unwrap(expression: Any) -> Any:
    """``"${x}"`` -> ``"x"``: the expression text of a whole-value interpolation."""
    if isinstance(expression, str) and expression.startswith("${") and expression.endswith("}"):
        return expression[2:-1]
    return expression


@dataclass(frozen=True)
class Variable:
    """A declared input variable."""

    name: str
    type: str
    description: str | None
    has_default: bool
    default: Any
    validations: int


@dataclass
class Config:
    """Everything declared in one Terraform directory (a module or a root)."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    variable_order: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform_blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.path.relative_to(TERRAFORM.parent))

    def expressions(self) -> str:
        """All parsed content as one string, to search for references."""
        return json.dumps(self.files)

    def module_config(self, call: str) -> Config:
        """The Config a module block calls (local sources only)."""
        source = self.modules[call]["source"]
        return load(str((self.path / source).resolve()))


@cache
def load(directory: str) -> Config:
    """Parse every .tf file of a directory (cached: the files do not change during a run)."""
    config = Config(path=Path(directory))
    for path in sorted(config.path.glob("*.tf")):
        parsed = parse(path)
        config.files[path.name] = parsed
        order = config.variable_order.setdefault(path.name, [])
        for block in parsed.get("variable", []):
            for name, body in block.items():
                order.append(name)
                config.variables[name] = Variable(
                    name=name,
                    type=str(unwrap(body.get("type", "any"))),
                    description=body.get("description"),
                    has_default="default" in body,
                    default=body.get("default"),
                    validations=len(body.get("validation", [])),
                )
        for block in parsed.get("output", []):
            config.outputs.update(block)
        for block in parsed.get("locals", []):
            config.locals.update(block)
        for kind, target in (("resource", config.resources), ("data", config.data)):
            for block in parsed.get(kind, []):
                for type_, instances in block.items():
                    for name, body in instances.items():
                        target[(type_, name)] = body
        for block in parsed.get("module", []):
            config.modules.update(block)
        config.terraform_blocks.extend(parsed.get("terraform", []))
    return config


ROOTS = [ROOT, BOOTSTRAP]


def all_directories() -> list[Path]:
    """Every Terraform directory: the modules, the root and the bootstrap root."""
    return sorted([*(p for p in MODULES.iterdir() if p.is_dir()), ROOT, BOOTSTRAP])


def environment_values(environment: str) -> dict[str, Any]:
    """The variables one environment's plan gets: terraform.tfvars, then envs/ENV.tfvars."""
    return {**parse(ROOT / "terraform.tfvars"), **parse(ENVS / f"{environment}.tfvars")}


def all_files() -> list[Path]:
    return sorted(
        [*TERRAFORM.rglob("*.tf"), *TERRAFORM.rglob("*.tfvars"), *TERRAFORM.rglob("*.tfbackend")]
    )


def all_values(node: Any) -> list[Any]:
    """Every scalar in a parsed structure, depth first."""
    if isinstance(node, dict):
        return [value for child in node.values() for value in all_values(child)]
    if isinstance(node, list):
        return [value for child in node for value in all_values(child)]
    return [node]


def find_key(node: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in a parsed structure."""
    found: list[Any] = []
    if isinstance(node, dict):
        for name, child in node.items():
            if name == key:
                found.append(child)
            found.extend(find_key(child, key))
    elif isinstance(node, list):
        for child in node:
            found.extend(find_key(child, key))
    return found
