"""What every report shows first: one verdict per cell, repeats folded together.

Repeats of a cell (`run --repeat N`) share `config.id`; their numbers are summarised
by the median and their findings are the union over the repeats (a leak seen once is
a leak).  A cell's verdict comes from its worst finding; whether that was expected is
said separately, because the deliberately broken strategies are meant to be caught.
"""

import statistics
from dataclasses import dataclass
from enum import IntEnum
from itertools import groupby

from sessionbench.results import CellConfig, CellResult, Finding, RunResult

from .metrics import METRICS, values


class Verdict(IntEnum):
    """Ordered from best to worst, so sorting ranks healthy cells first."""

    HEALTHY = 0
    WARNING = 1
    UNHEALTHY = 2
    ERROR = 3  # the cell could not be measured

    @property
    def label(self) -> str:
        return self.name.lower()


SEVERITY_VERDICT = {"info": Verdict.HEALTHY, "warning": Verdict.WARNING, "error": Verdict.UNHEALTHY}


@dataclass(frozen=True)
class CellSummary:
    config: CellConfig
    repeats: list[CellResult]
    findings: list[Finding]  # one per kind, the first seen
    errors: list[str]  # why repeats could not be measured

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def verdict(self) -> Verdict:
        if self.errors:
            return Verdict.ERROR
        return max((SEVERITY_VERDICT[f.severity] for f in self.findings), default=Verdict.HEALTHY)

    @property
    def failing(self) -> bool:
        """Some request failed or was left unanswered (GET /fail's 500 is a success)."""
        return any(c.load.failures or c.load.unfinished for c in self.repeats if c.load)

    @property
    def expected(self) -> set[str]:
        return set(self.repeats[0].expected_findings)

    @property
    def unexpected_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind not in self.expected]

    @property
    def missing_findings(self) -> list[str]:
        seen = {f.kind for f in self.findings}
        return sorted(self.expected - seen)

    def median(self, metric: str) -> float | None:
        found = values(METRICS[metric], self.repeats)
        return statistics.median(found) if found else None


def summarise(result: RunResult) -> list[CellSummary]:
    """Cells in run order, each with all its repeats."""
    order = {cell.config.id: i for i, cell in reversed(list(enumerate(result.cells)))}
    ordered = sorted(result.cells, key=lambda c: (order[c.config.id], c.repeat))
    summaries = []
    for _, group in groupby(ordered, key=lambda c: c.config.id):
        repeats = list(group)
        findings: dict[str, Finding] = {}
        for cell in repeats:
            for finding in cell.findings:
                findings.setdefault(finding.kind, finding)
        errors = [c.error or "unknown error" for c in repeats if c.status == "error"]
        summaries.append(CellSummary(repeats[0].config, repeats, list(findings.values()), errors))
    return summaries


def ranking(summaries: list[CellSummary]) -> list[CellSummary]:
    """Best first: strategies that answer every request before those that do not, then
    by verdict, then by median throughput."""
    return sorted(
        summaries,
        key=lambda s: (s.failing, s.verdict, -(s.median("rps") or 0.0)),
    )


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"
    return f"{text} {unit}".rstrip()
