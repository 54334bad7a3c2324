"""`sessionbench calibrate verdicts`: does each strategy get the same verdicts every time?

The default run (or any run with repeats) is measured N times, going round the cells;
per cell, the sets of finding kinds the repeats got are counted.  A stable diagnosis
gives one set N times; where the sets differ, the deciding figures of the findings that
came and went show whether they sat near their thresholds (borderline) or not.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from rich.console import Console

from sessionbench.results import CellResult, RunResult

from .runner import RunPlan, execute


@dataclass(frozen=True)
class VerdictStability:
    cell: str
    sets: Counter[frozenset[str]]  # finding kinds (notes left out) -> repeats with that set
    errors: int  # repeats that could not be measured
    unsteady: dict[str, list[str]]  # kind not in every repeat -> its deciding figures

    @property
    def stable(self) -> bool:
        return len(self.sets) == 1 and not self.errors


def _kinds(cell: CellResult) -> frozenset[str]:
    return frozenset(f.kind for f in cell.findings if f.severity != "info")


def stability(result: RunResult) -> list[VerdictStability]:
    ordered = sorted(result.cells, key=lambda c: c.config.id)
    rows = []
    for cell_id, group in groupby(ordered, key=lambda c: c.config.id):
        repeats = list(group)
        measured = [c for c in repeats if c.status == "ok"]
        sets = Counter(_kinds(c) for c in measured)
        always = frozenset.intersection(*sets) if sets else frozenset()
        unsteady: dict[str, list[str]] = {}
        for cell in measured:
            for finding in cell.findings:
                if finding.kind in always or finding.severity == "info":
                    continue
                d = finding.decided
                figure = (
                    f"{d.figure} {d.value:g} vs {d.threshold:g}"
                    + (" (borderline)" if d.borderline else "")
                    if d
                    else finding.summary
                )
                unsteady.setdefault(finding.kind, []).append(figure)
        rows.append(VerdictStability(cell_id, sets, len(repeats) - len(measured), unsteady))
    return rows


def print_stability(rows: list[VerdictStability], console: Console) -> None:
    for row in rows:
        sets = "; ".join(
            f"{', '.join(sorted(kinds)) or 'none'} x{count}"
            for kinds, count in row.sets.most_common()
        )
        errors = f"; {row.errors} not measured" if row.errors else ""
        console.print(f"{'stable  ' if row.stable else 'UNSTABLE'} {row.cell}: {sets}{errors}")
        for kind, figures in row.unsteady.items():
            console.print(f"           {kind} when it fired: {'; '.join(figures)}")
    stable = sum(r.stable for r in rows)
    console.print(f"{stable} of {len(rows)} cells got the same verdicts in every repeat")


def run(*, plan: RunPlan, console: Console) -> list[VerdictStability]:
    result = execute(plan)
    rows = stability(result)
    print_stability(rows, console)
    console.print(f"runs kept in {plan.output_dir / 'results.json'}", highlight=False)
    return rows


def from_file(result: RunResult, console: Console) -> list[VerdictStability]:
    rows = stability(result)
    print_stability(rows, console)
    return rows
