"""Render a module's strings as Terraform would, for the plain interpolations they use.

The monitoring module builds its filters, PromQL queries and documentation from ``${var.x}``,
``${local.x}``, ``${each.key}`` and ``${each.value.x}`` only, so a test can see the exact text
Cloud Monitoring will receive without the terraform binary. Anything else inside ``${...}`` (a
function call, arithmetic) is refused with an error, except references to a resource's
attribute, which render as ``RESOURCE(type.name.attribute)`` because their values exist only
after apply.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from tests.static import terraform_config as tf

_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^{}]*)\}")
_HEREDOC = re.compile(r"^<<(-?)([A-Za-z_]\w*)\n(.*)\n[ \t]*\2$", re.S)
_ESCAPES = {'\\"': '"', "\\\\": "\\", "\\n": "\n", "\\t": "\t"}
_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")
_RESOURCE_ATTRIBUTE = re.compile(r"(google(?:-beta)?_[a-z0-9_]+)\.(\w+)\.(\w+)")


class RenderError(ValueError):
    """An expression the renderer does not evaluate."""


def literal(raw: str) -> str:
    """The text of a parsed HCL string: heredoc markers removed and ``<<-`` indentation
    stripped, or a quoted string's escapes undone. Interpolations stay as they are."""
    heredoc = _HEREDOC.match(raw)
    if heredoc:
        body = heredoc.group(3) + "\n"
        return textwrap.dedent(body) if heredoc.group(1) else body
    return re.sub(r'\\["\\nt]', lambda m: _ESCAPES[m.group(0)], raw)


@dataclass
class Scope:
    """What the plain references of one module (and one for_each instance) evaluate to."""

    config: tf.Config
    variables: dict[str, Any]
    each_key: str | None = None
    each_value: dict[str, Any] = field(default_factory=dict)

    def value(self, expression: str) -> Any:
        expression = expression.strip()
        if not _REFERENCE.fullmatch(expression):
            raise RenderError(f"cannot render ${{{expression}}}")
        if expression.startswith("var."):
            name = expression[4:]
            if name not in self.variables:
                raise RenderError(f"no value for var.{name}")
            return self.variables[name]
        if expression.startswith("local."):
            return self.evaluate(self.config.locals[expression[6:]])
        if expression == "each.key" and self.each_key is not None:
            return self.each_key
        if expression.startswith("each.value.") and self.each_value:
            return self.evaluate(self.each_value[expression[11:]])
        if _RESOURCE_ATTRIBUTE.fullmatch(expression):
            return f"RESOURCE({expression})"
        raise RenderError(f"cannot render ${{{expression}}}")

    def evaluate(self, node: Any) -> Any:
        """A parsed value with every string rendered; ``"${x}"`` alone keeps x's type."""
        if isinstance(node, dict):
            return {key: self.evaluate(child) for key, child in node.items()}
        if isinstance(node, list):
            return [self.evaluate(child) for child in node]
        if not isinstance(node, str):
            return node
        whole = _INTERPOLATION.fullmatch(node)
        if whole:
            return self.value(whole.group(1))
        return _INTERPOLATION.sub(lambda m: _text(self.value(m.group(1))), literal(node)).replace(
            "$${", "${"
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def instances(scope: Scope, body: dict[str, Any]) -> dict[str, Scope]:
    """The scopes of a resource's instances: one per for_each key, or one (key "") without."""
    if "for_each" not in body:
        return {"": scope}
    collection = scope.evaluate(body["for_each"])
    if not isinstance(collection, dict):
        raise RenderError(f"for_each must be a map here, got {collection!r}")
    return {
        key: Scope(scope.config, scope.variables, each_key=key, each_value=value)
        for key, value in collection.items()
    }


def template(text: str, values: dict[str, Any]) -> str:
    """``templatefile``: substitute ``${name}`` from values (a missing name is an error, as
    in Terraform); ``$${`` stands for a literal ``${``."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in values:
            raise RenderError(f"template refers to {name!r}, which is not passed")
        return _text(values[name])

    return _INTERPOLATION.sub(substitute, text).replace("$${", "${")
