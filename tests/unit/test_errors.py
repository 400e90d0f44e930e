"""One root for the project's own errors (``bqingest.errors``), and the CLI catches it once."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import bqingest
from bqingest.errors import BqingestError

PACKAGE = Path(bqingest.__file__).parent
# Every module of the package, found by file (``local/`` is a namespace package, which
# pkgutil does not walk into), but ``__main__``, which runs the command when imported.
_MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if path.name != "__main__.py"
)


def _exceptions_defined_in_bqingest() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _MODULES:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Exception) and value.__module__.startswith("bqingest"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


def test_the_walk_finds_every_part_s_errors() -> None:
    names = {f"{cls.__module__}.{cls.__name__}" for cls in _exceptions_defined_in_bqingest()}
    # One per part at least, so that a walk that imports nothing cannot pass the next test.
    for expected in (
        "bqingest.contract.errors.ContractError",
        "bqingest.config.api.UnsafeSettings",
        "bqingest.telemetry.MetricsPortUnavailable",
        "bqingest.source.ledger.LedgerError",
        "bqingest.bootstrap.BootstrapError",
        "bqingest.pipeline.errors.PipelineError",
        "bqingest.api.errors.ApiError",
        "bqingest.operations.errors.OperationsError",
        "bqingest.operations.dead_letters.ReplayError",
        "bqingest.operations.readings.ScrapeFailed",
        "bqingest.local.errors.LocalStackError",
        "bqingest.local.fresh.StackStillRunning",
    ):
        assert expected in names


def test_every_exception_class_in_the_package_is_below_the_root() -> None:
    strays = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _exceptions_defined_in_bqingest()
        if not issubclass(cls, BqingestError)
    ]
    assert strays == [], f"not under bqingest.errors.BqingestError: {strays}"


def test_one_class_per_error_name() -> None:
    """Two classes of one name (two MetricsPortUnavailable, one never raised) mislead readers."""
    by_name: dict[str, list[str]] = {}
    for cls in _exceptions_defined_in_bqingest():
        by_name.setdefault(cls.__name__, []).append(cls.__module__)
    twins = {name: mods for name, mods in by_name.items() if len(mods) > 1}
    assert twins == {}


def test_values_errors_stay_value_errors() -> None:
    from bqingest.config import UnsafeSettings
    from bqingest.contract.errors import ContractError
    from bqingest.operations.dead_letters import ReplayError

    for cls in (ContractError, UnsafeSettings, ReplayError):
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    "error",
    [
        "bqingest.bootstrap:BootstrapError",
        "bqingest.config:UnsafeSettings",
        "bqingest.telemetry:MetricsPortUnavailable",
        "bqingest.source.ledger:LedgerError",
        "bqingest.pipeline.errors:SinkUnavailable",
        "bqingest.operations.errors:ReconcileError",
        "bqingest.operations.dead_letters:ReplayError",
        "bqingest.operations.readings:ScrapeFailed",
        "bqingest.local.errors:PortInUse",
        "bqingest.api.errors:UpstreamUnavailable",
    ],
)
def test_the_cli_prints_any_bqingest_error_as_one_line_and_exits_1(
    error: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bqingest import cli

    module, _, name = error.partition(":")
    cls = getattr(importlib.import_module(module), name)

    def fail() -> None:
        raise cls("the thing failed: do this")

    monkeypatch.setattr(cli, "app", fail)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: the thing failed: do this\n"


def test_the_drawn_trees_leave_no_class_out() -> None:
    """bqingest/errors.py draws every class but the API's own subtree, which api/errors.py draws
    beside the HTTP status each answers with."""
    import bqingest.api.errors
    import bqingest.errors

    def drawing_of(cls: type) -> str:
        owner = bqingest.api.errors if cls.__module__ == "bqingest.api.errors" else bqingest.errors
        return owner.__doc__ or ""

    missing = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _exceptions_defined_in_bqingest()
        if not re.search(rf"[─ ]{cls.__name__}\b", drawing_of(cls))
    ]
    assert missing == []
