"""The regression gate: compare a candidate run with a baseline, cell by cell.

A metric regresses only when both hold (asv's rule): the repeats differ significantly
(one-sided Mann-Whitney U in the metric's bad direction, Holm-adjusted over the checks
beyond their thresholds,
p <= ALPHA) and the ratio of
medians new/base is beyond the threshold.  Qualitative regressions fail on their own:
a finding kind the cell did not have (shown by most repeats; info-level ones never),
a kind of request error it did not have, a cell that could no longer be measured.
Before any verdict, warnings say what makes the comparison weak: different
environments, unstable metrics, too few repeats.
"""

import statistics
from dataclasses import dataclass, field, replace

from scipy.stats import mannwhitneyu

from sessionbench.results import CellResult, Environment, Finding, RunResult

from .metrics import values
from .thresholds import Threshold

ALPHA = 0.05
MIN_REPEATS = 3  # fewer cannot reach p <= 0.05 (3 vs 3, fully separated: p = 0.05)
UNSTABLE_CV = 0.10  # pyperf warns at a standard deviation of 10 % of the mean
# Must match before two runs are comparable (pyperf's _CHECKED_METADATA).
CHECKED_ENVIRONMENT = ("python", "platform", "cpu_count", "packages", "database_servers")


@dataclass(frozen=True)
class MetricCheck:
    cell: str
    threshold: Threshold
    base: list[float]
    new: list[float]
    p_value: float | None  # None: too few repeats to test
    p_adjusted: float | None = None  # Holm-adjusted over the checks beyond threshold

    @property
    def ratio(self) -> float:
        base = statistics.median(self.base)
        return statistics.median(self.new) / base if base else float("inf")

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted <= ALPHA

    @property
    def regression(self) -> bool:
        return self.significant and self.threshold.exceeded(self.ratio)


@dataclass(frozen=True)
class QualitativeRegression:
    cell: str
    what: str  # e.g. "new finding", "new error", "not measured"
    detail: str


@dataclass
class GateResult:
    checks: list[MetricCheck] = field(default_factory=list)
    qualitative: list[QualitativeRegression] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricCheck]:
        return [c for c in self.checks if c.regression]

    @property
    def failed(self) -> bool:
        return bool(self.qualitative or self.regressions)


def _p_value(check_base: list[float], check_new: list[float], threshold: Threshold) -> float | None:
    if min(len(check_base), len(check_new)) < MIN_REPEATS:
        return None
    if len(set(check_base) | set(check_new)) == 1:
        return 1.0  # all equal: nothing to test (and the test would divide by zero)
    alternative = "less" if threshold.metric.better == "higher" else "greater"
    return float(mannwhitneyu(check_new, check_base, alternative=alternative).pvalue)


def holm(checks: list[MetricCheck]) -> list[MetricCheck]:
    """Holm's step-down adjustment: one job fails on any check, so ALPHA bounds the
    chance that any of them is a false alarm, not each one alone.  The family is the
    checks whose change is beyond their threshold: only those can fail the gate, and
    counting the others would only cost the real regressions their power."""
    tested = sorted(
        (c for c in checks if c.p_value is not None and c.threshold.exceeded(c.ratio)),
        key=lambda c: c.p_value or 0,
    )
    adjusted, running = {}, 0.0
    for rank, check in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * (check.p_value or 0)))
        adjusted[id(check)] = running
    # Checks within their threshold keep their own p-value: shown, never gating.
    return [replace(c, p_adjusted=adjusted.get(id(c), c.p_value)) for c in checks]


def _unstable(samples: list[float]) -> bool:
    if len(samples) < 2 or statistics.mean(samples) == 0:
        return False
    return statistics.stdev(samples) / abs(statistics.mean(samples)) >= UNSTABLE_CV


def _findings_by_kind(cells: list[CellResult]) -> dict[str, list[Finding]]:
    """Each finding kind with its occurrences, at most one per repeat."""
    seen: dict[str, list[Finding]] = {}
    for cell in cells:
        for finding in {f.kind: f for f in cell.findings}.values():
            seen.setdefault(finding.kind, []).append(finding)
    return seen


def _qualitative(
    cell: str, base: list[CellResult], new: list[CellResult]
) -> list[QualitativeRegression]:
    found = []
    failed = [c.error or "unknown error" for c in new if c.status == "error"]
    if failed and all(c.status == "ok" for c in base):
        found.append(QualitativeRegression(cell, "not measured", failed[0]))
    base_kinds = {f.kind for c in base for f in c.findings}
    for kind, seen in _findings_by_kind(new).items():
        finding = seen[0]
        # A finding must show in most repeats, like a metric must differ significantly:
        # borderline diagnoses (a stall on a busy machine, churn near its threshold) come
        # and go between runs of the same code.  Info-level findings never gate.
        gating = finding.severity != "info" and len(seen) * 2 > len(new)
        if kind not in base_kinds and gating:
            found.append(QualitativeRegression(cell, "new finding", f"{kind}: {finding.summary}"))
    base_errors = {
        (e.method, e.name, e.error) for c in base if c.load for e in c.load.failures_by_kind
    }
    for error in {
        (e.method, e.name, e.error) for c in new if c.load for e in c.load.failures_by_kind
    }:
        if error not in base_errors:
            found.append(QualitativeRegression(cell, "new error", " ".join(error)))
    return found


def environment_differences(base: Environment, new: Environment) -> list[str]:
    return [
        f"{key}: {getattr(base, key)} -> {getattr(new, key)}"
        for key in CHECKED_ENVIRONMENT
        if getattr(base, key) != getattr(new, key)
    ]


def _by_cell(result: RunResult) -> dict[str, list[CellResult]]:
    cells: dict[str, list[CellResult]] = {}
    for cell in result.cells:
        cells.setdefault(cell.config.id, []).append(cell)
    return cells


def _environment(result: RunResult, shard: int | None) -> Environment:
    """The environment that measured a cell: its shard's, in a merged result."""
    return next(
        (s.environment for s in result.shards if s.shard.index == shard), result.environment
    )


def _environment_warnings(
    base: RunResult, new: RunResult, shard_pairs: set[tuple[int | None, int | None]]
) -> list[str]:
    """Merged shards may run on different machines: a cell's baseline and candidate are
    compared in the environments of the shards that measured them."""
    warnings = []
    for base_shard, new_shard in sorted(shard_pairs or {(None, None)}, key=str):
        where = "" if base_shard is new_shard is None else f" on shard {base_shard}"
        if base_shard != new_shard:
            where = f" (base shard {base_shard}, new shard {new_shard})"
        warnings += [
            f"environments differ{where}, {difference}"
            for difference in environment_differences(
                _environment(base, base_shard), _environment(new, new_shard)
            )
        ]
    return list(dict.fromkeys(warnings))


def compare(base: RunResult, new: RunResult, thresholds: list[Threshold]) -> GateResult:
    gate = GateResult()
    base_cells, new_cells = _by_cell(base), _by_cell(new)
    gate.warnings += _environment_warnings(
        base,
        new,
        {(base_cells[c][0].shard, new_cells[c][0].shard) for c in base_cells if c in new_cells},
    )
    gate.warnings += [f"{cell}: not in the new run" for cell in base_cells if cell not in new_cells]
    gate.warnings += [f"{cell}: no baseline" for cell in new_cells if cell not in base_cells]
    for cell_id in (c for c in base_cells if c in new_cells):
        base_repeats, new_repeats = base_cells[cell_id], new_cells[cell_id]
        gate.qualitative += _qualitative(cell_id, base_repeats, new_repeats)
        for threshold in thresholds:
            b, n = values(threshold.metric, base_repeats), values(threshold.metric, new_repeats)
            if not b or not n:
                continue
            gate.checks.append(MetricCheck(cell_id, threshold, b, n, _p_value(b, n, threshold)))
            for label, samples in (("base", b), ("new", n)):
                if _unstable(samples):
                    gate.warnings.append(
                        f"{cell_id}: {threshold.metric.name} is unstable in the {label} run "
                        f"(spread >= {UNSTABLE_CV:.0%} of the mean)"
                    )
    gate.checks = holm(gate.checks)
    if any(c.p_value is None for c in gate.checks):
        gate.warnings.append(
            f"fewer than {MIN_REPEATS} repeats per cell: metric changes cannot be significant, "
            f"only qualitative regressions are gated (use run --repeat {MIN_REPEATS} or more)"
        )
    return gate
