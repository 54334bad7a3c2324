"""`sessionbench run --compare --budget 5m`: as many repeats as ranking the strategies
needs on this machine, within a time budget.

A pilot runs every cell PILOT_ROUNDS times, going round the cells; from its throughput
spread between repeats and the gap between the two fastest healthy strategies of each
group, the recommendation's `repeats_to_rank` says how many repeats would tell them
apart, and the pilot's wall time how many rounds the budget affords.  The remaining
rounds go round the cells again, so drift on a shared machine hits every strategy
alike, leaving out the strategies the pilot already found to avoid (failed requests,
error findings): no repeat makes them a choice.  Everything measured, pilot included,
is one results.json.
"""

import math
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sessionbench.reports.metrics import METRICS, values
from sessionbench.reports.recommendation import RepeatsNeeded, recommend, repeats_to_rank
from sessionbench.reports.summary import summarise
from sessionbench.results import CellResult, RunResult, SkippedDatabase

from .databases.catalogue import ProvisionOptions
from .matrix import Cell
from .runner import RunEvents, RunPlan, execute

PILOT_ROUNDS = 2  # the fewest that measure a spread


@dataclass(frozen=True)
class Sizing:
    rounds: int  # in all, pilot included
    needed: RepeatsNeeded | None  # the most any group needs; None: nothing to rank
    affordable: int  # rounds the budget allows, pilot included
    round_s: float  # wall time of one round of the kept cells, measured by the pilot
    kept: frozenset[str]  # cell ids measured after the pilot

    def describe(self) -> str:
        if self.needed is None:
            return f"nothing to rank (fewer than two healthy strategies): {self.rounds} rounds"
        wanted = self.needed.repeats
        want = f"{wanted} repeats each" if wanted else "more than 100 repeats each"
        budget = (
            ""
            if wanted is not None and wanted <= self.affordable
            else f"; the budget affords {self.affordable}, so close ones may stay tied"
        )
        return (
            f"spread between runs {self.needed.spread:.0%}; resolving "
            f"{self.needed.gap_text} needs {want}{budget}; running "
            f"{self.rounds} rounds of {self.round_s:.0f} s"
        )


def size(pilot: RunResult, budget_s: float, spent_s: float) -> Sizing:
    """Rounds to run in all: what the most demanding group needs, within the budget."""
    groups = recommend(summarise(pilot))
    kept = frozenset(p.summary.id for g in groups for p in g.places if p.standing != "avoid")
    cells = len({cell.config.id for cell in pilot.cells})
    round_s = spent_s / PILOT_ROUNDS * len(kept) / max(cells, 1)
    affordable = PILOT_ROUNDS + max(0, math.floor((budget_s - spent_s) / max(round_s, 1e-9)))
    needs = []
    for group in groups:
        healthy = [p for p in group.places if p.standing in ("best", "tied", "behind")]
        need = repeats_to_rank([values(METRICS["rps"], p.summary.repeats) for p in healthy])
        if need is not None:
            needs.append(need)
    needed = max(needs, key=lambda n: n.repeats or 1_000, default=None)
    wanted = PILOT_ROUNDS if needed is None else (needed.repeats or affordable)
    rounds = max(PILOT_ROUNDS, min(wanted, affordable))
    return Sizing(rounds, needed, affordable, round_s, kept)


def _merge(pilot: RunResult, rounds: RunResult) -> RunResult:
    later: list[CellResult] = [
        cell.model_copy(update={"repeat": cell.repeat + PILOT_ROUNDS}) for cell in rounds.cells
    ]
    return pilot.model_copy(
        update={
            "cells": pilot.cells + later,
            "skipped": pilot.skipped + rounds.skipped,
            "finished_at": rounds.finished_at,
            "interrupted": rounds.interrupted,
        }
    )


def run(
    *, cells: list[Cell], output: Path, provision: ProvisionOptions, budget_s: float,
    console: Console,
) -> RunResult:  # fmt: skip
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("pilot", total=len(cells) * PILOT_ROUNDS)

        def skipped(s: SkippedDatabase) -> None:
            progress.console.print(f"skipped {s.database}: {s.reason}", highlight=False)

        events = RunEvents(
            cell_started=lambda i, n, cell: progress.update(task, description=cell.id),
            cell_finished=lambda result: progress.advance(task),
            database_skipped=skipped,
        )
        started = time.monotonic()
        pilot = execute(RunPlan(cells, output / "pilot", provision, PILOT_ROUNDS), events)
        sizing = size(pilot, budget_s, time.monotonic() - started)
        progress.console.print(sizing.describe(), highlight=False)
        kept = [cell for cell in cells if cell.id in sizing.kept]
        if sizing.rounds <= PILOT_ROUNDS or not kept:
            result = pilot
        else:
            extra = sizing.rounds - PILOT_ROUNDS
            progress.update(task, total=len(cells) * PILOT_ROUNDS + len(kept) * extra)
            more = RunPlan(kept, output / "rounds", provision, extra)
            result = _merge(pilot, execute(more, events))
    result.write(output / "results.json")
    return result
