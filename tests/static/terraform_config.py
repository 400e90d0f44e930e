"""Read the Terraform configuration under ``terraform/`` without the terraform binary.

python-hcl2 parses each file; this module turns a directory into a ``Config`` (variables,
outputs, locals, resources, data sources, module calls) and finds the references its expressions
make, so tests can check that every reference resolves. It also checks the layout rules that
``terraform fmt`` enforces (indentation by bracket depth, aligned ``=`` in runs of one-line
attributes), because the binary is not available here; CI runs the real ``terraform fmt``.
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
RESOURCE_REF = re.compile(_REF + r"(google(?:-beta)?_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


def parse(path: Path) -> dict[str, Any]:
    """One .tf or .tfvars file as plain Python values (strings unquoted, no comments)."""
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


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
        return str(self.path.relative_to(TERRAFORM))

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


def all_directories() -> list[Path]:
    """Every Terraform directory: the modules, the environment roots and the bootstrap root."""
    return sorted(
        [
            *(p for p in MODULES.iterdir() if p.is_dir()),
            *(ENVS / e for e in ENVIRONMENTS),
            BOOTSTRAP,
        ]
    )


def all_files() -> list[Path]:
    return sorted([*TERRAFORM.rglob("*.tf"), *TERRAFORM.rglob("*.tfvars")])


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


# --- layout: what `terraform fmt` would change ---------------------------------------------------

_OPENERS = "{[("
_HEREDOC = re.compile(r"<<-?([A-Za-z_]\w*)$")
_CLOSERS = "}])"


def _code_part(line: str) -> tuple[str, bool]:
    """The line with string contents blanked (quotes kept) and any comment removed; whether
    there was a comment."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(line):
        char = line[i]
        if in_string:
            if char == "\\":
                out.append("  ")
                i += 2
                continue
            if char == '"':
                in_string = False
                out.append(char)
            else:
                out.append(" ")
            i += 1
            continue
        if char == '"':
            in_string = True
            out.append(char)
        elif char == "#" or line.startswith("//", i):
            return "".join(out).rstrip(), True
        else:
            out.append(char)
        i += 1
    return "".join(out).rstrip(), False


def _net_brackets(code: str) -> int:
    return sum(code.count(c) for c in _OPENERS) - sum(code.count(c) for c in _CLOSERS)


def _assignment(code: str) -> int | None:
    """Column of the attribute's ``=`` (not ``==``, ``<=``, ``>=``, ``!=``, ``=>``), if any."""
    for match in re.finditer(r"=", code):
        at = match.start()
        before = code[at - 1] if at else ""
        after = code[at + 1] if at + 1 < len(code) else ""
        if before in "=!<>" or after in "=>":
            continue
        return at if code[:at].strip() else None
    return None


def layout_problems(path: Path) -> list[str]:
    """Departures from `terraform fmt` layout, as 'file:line: problem' strings."""
    text = path.read_text()
    problems: list[str] = []
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append(f"{name}: must end with exactly one newline")
    if "\t" in text:
        problems.append(f"{name}: contains a tab")
    lines = text.split("\n")[:-1]
    indents: list[int] = []
    chain: list[tuple[int, int, int]] = []  # (line number, lead width, spaces before '=')

    def close_chain() -> None:
        if chain:
            widest = max(lead for _, lead, _ in chain)
            for number, lead, spaces in chain:
                if spaces != widest - lead + 1:
                    problems.append(f"{name}:{number}: '=' not aligned with its neighbours")
            chain.clear()

    heredoc: str | None = None  # the closing marker while inside a heredoc
    for number, line in enumerate(lines, start=1):
        if line != line.rstrip():
            problems.append(f"{name}:{number}: trailing whitespace")
        stripped = line.strip()
        if heredoc is not None:
            # terraform fmt leaves a heredoc's text as written; its lines end a run of '='.
            close_chain()
            if stripped == heredoc:
                heredoc = None
            continue
        if not stripped:
            close_chain()
            continue
        code, commented = _code_part(line)
        net = _net_brackets(code)
        if net < 0:
            closed = -net
            while closed > 0 and indents:
                if closed >= indents[-1]:
                    closed -= indents.pop()
                else:
                    indents[-1] -= closed
                    closed = 0
        expected_indent = 2 * len(indents)
        if net > 0:
            indents.append(net)
        indent = len(line) - len(line.lstrip(" "))
        if indent != expected_indent:
            problems.append(f"{name}:{number}: indented {indent}, expected {expected_indent}")
        if commented and code.strip():
            problems.append(f"{name}:{number}: trailing comment (put comments on their own line)")
        at = _assignment(code) if code.strip() else None
        if at is None:
            close_chain()
            continue
        lead = len(code[:at].rstrip())
        spaces = at - lead
        if not code[at + 1 :].startswith(" ") or code[at + 2 : at + 3] == " ":
            problems.append(f"{name}:{number}: exactly one space must follow '='")
        opener = _HEREDOC.search(code[at:])
        if opener:
            heredoc = opener.group(1)
        if _net_brackets(code[at:]) == 0:
            chain.append((number, lead, spaces))
        else:
            close_chain()
            if spaces != 1:
                problems.append(f"{name}:{number}: one space before '=' of a multi-line value")
    close_chain()
    return problems
