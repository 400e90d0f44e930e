"""``bqingest up --fresh``: start from an empty warehouse and ledger, saying what goes.

The local stack keeps its state in the data directory (``BQINGEST_DATA_DIR``, ``.bqingest`` by
default): the warehouse (bqemulator's DuckDB file), the source's ledger, the whole bodies of dead
letters too long for their row, and the logs. A clean slate removes exactly those entries, after
listing them with their sizes; anything else in the directory is left where it is, and so is
everything outside it. It refuses while something still listens on the stack's emulator ports
(a running ``bqingest up`` would keep writing into files being removed).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rich.console import Console

from bqingest.clients import port_is_open
from bqingest.config import LocalSettings
from bqingest.local.errors import LocalStackError
from bqingest.source.ledger import LEDGER_FILE

OURS: Final = {
    "warehouse": "the warehouse (bqemulator's DuckDB file: events, dead letters)",
    LEDGER_FILE: "the source's ledger (what it published)",
    f"{LEDGER_FILE}-wal": "the ledger's write-ahead log",
    f"{LEDGER_FILE}-shm": "the ledger's shared-memory index",
    "dead-letter-payloads": "whole bodies of dead letters too long for their row",
    "logs": "the logs of every process",
}
"""What the local stack keeps in the data directory, and what each entry is."""


class StackStillRunning(LocalStackError):
    """A clean slate was asked for while the stack's emulators still answer."""


@dataclass(frozen=True)
class Entry:
    """One entry of the data directory a clean slate removes."""

    path: Path
    what: str
    size: int

    def line(self) -> str:
        return f"{self.path} ({_human(self.size)}): {self.what}"


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def entries(data_dir: Path) -> list[Entry]:
    """The stack's own entries in ``data_dir`` (nothing else), in :data:`OURS` order."""
    found = []
    for name, what in OURS.items():
        path = data_dir / name
        if path.exists() or path.is_symlink():
            found.append(Entry(path, what, _size(path)))
    return found


def clean_slate(settings: LocalSettings, console: Console) -> list[Entry]:
    """Remove the local stack's state from the data directory; return what was removed."""
    running = [
        host
        for host in (
            settings.pubsub_emulator_host,
            settings.bigquery_emulator_host,
            settings.bigquery_emulator_grpc_host,
        )
        if host is not None and port_is_open(host)
    ]
    if running:
        raise StackStillRunning(
            f"cannot start afresh: {', '.join(running)} still answer(s), so a local stack seems "
            "to be running: stop it (Ctrl-C in its terminal) and run `bqingest up --fresh` again"
        )
    data_dir = settings.data_dir.resolve()
    removed = entries(data_dir)
    if not removed:
        console.print(f"Starting afresh: {data_dir} holds nothing of a previous run.")
        return []
    console.print(f"Starting afresh: removing from {data_dir}:")
    for entry in removed:
        console.print(f"  {entry.line()}", highlight=False)
        if entry.path.is_dir() and not entry.path.is_symlink():
            shutil.rmtree(entry.path)
        else:
            entry.path.unlink()
    others = sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else []
    if others:
        console.print(f"  left in place (not the stack's): {', '.join(others)}", highlight=False)
    return removed
