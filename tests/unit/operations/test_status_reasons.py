"""``bqingest status`` counts every dead-letter reason, schema_violation included."""

from __future__ import annotations

from rich.console import Console

from bqingest.operations.counts import Counts
from bqingest.operations.figures import Figures
from bqingest.operations.readings import Reading
from bqingest.operations.status import render


def test_schema_violations_have_their_own_row() -> None:
    reading = Reading(
        at=0.0,
        samples={},
        errors={},
        warehouse=Counts(dead_letters={"schema_violation": 7, "not_json": 2}),
    )
    seen = Figures(
        window=60.0,
        dead_letters={("schema_violation", "parse"): 7.0, ("not_json", "parse"): 2.0},
        dead_letters_in_window={("schema_violation", "parse"): 3.0},
    )
    console = Console(record=True, width=160)
    console.print(render(reading, seen, [], []))
    text = console.export_text()
    (row,) = [line for line in text.splitlines() if "schema_violation" in line]
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    assert cells == ["schema_violation", "parse", "7", "3", "7"]
