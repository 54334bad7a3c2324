"""`sessionbench list`: everything the matrix can be built from, with one line each."""

from rich.console import Console
from rich.table import Table

from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .databases.catalogue import DATABASES


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column("name", style="bold")
    table.add_column("description")
    for row in rows:
        table.add_row(*row)
    return table


def print_catalogue(console: Console) -> None:
    console.print(_table("strategies", [(s.name, s.summary) for s in strategies()]))
    console.print(_table("databases", [(d.name, d.description) for d in DATABASES]))
    console.print(_table("pool variants", [(p.name, p.description) for p in POOLS]))
    console.print(
        _table(
            "scenarios",
            [
                (s.name, s.description + (f"; fault: {s.fault.describe()}" if s.fault else ""))
                for s in load_scenarios()
            ],
        )
    )
