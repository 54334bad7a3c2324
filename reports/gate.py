"""The regression gate: compare a candidate run with a baseline, cell by cell and over
the whole matrix.

The family of tests is fixed by the two runs' shape before any value is read: one
check per cell measured on both sides and gated metric, plus, when two or more cells
are compared, one matrix-wide check per metric (a stratified rank test over every
cell, so a change shared by many cells adds up even when no single cell can show it).
Holm's adjustment runs over that whole family, weighted: the matrix-wide checks share
half of ALPHA and the per-cell checks the other half (a broad regression is what the
matrix-wide checks are for, and they are few), each half split evenly.  A check whose
values all tie can never reject and gets no share (Tarone).  A check regresses when
both hold (asv's rule): its adjusted p-value is <= ALPHA, and its estimated change (the
Hodges-Lehmann ratio for one cell, the geometric mean of the cells' ratios for the
matrix) is beyond the threshold.

Qualitative regressions fail on their own: a cell the candidate could not measure
(or dropped), a finding kind the cell did not have and a kind of request error it did
not have (each shown by most repeats; info-level findings never gate).  Findings that
got worse are reported.  Before any verdict: a power check (can these repeats detect a
change of the threshold's size at all?), configuration or environment mismatches, and
unstable metrics.
"""

import math
import statistics
from dataclasses import dataclass, field

from sessionbench.results import CellResult, Environment, Finding, RunResult

from . import stats
from .metrics import values
from .thresholds import Threshold

ALPHA = stats.ALPHA
ALL_CELLS = "all cells"
MATRIX_SHARE = 0.5  # of ALPHA, for the matrix-wide checks when there are any
UNSTABLE_CV = 0.10  # pyperf warns at a standard deviation of 10 % of the mean
WORSE_FINDING_FACTOR = 1.5  # an evidence figure 1.5 times its baseline is reported
# Must match before two runs are comparable (pyperf's _CHECKED_METADATA).
CHECKED_ENVIRONMENT = ("python", "platform", "cpu_count", "packages", "database_servers")
# Within a cell id (strategy, database+driver, pool name, scenario name), what else
# must match; injected slowdowns and errors stand for code changes and may differ.
CHECKED_CONFIG = ("users", "duration_s", "pool", "tasks", "slow_ms")


Strata = list[tuple[list[float], list[float]]]


@dataclass(frozen=True)
class MetricCheck:
    cell: str  # a cell id, or ALL_CELLS for the matrix-wide check
    threshold: Threshold
    strata: Strata  # (base, new) repeats per cell
    p_value: float
    p_adjusted: float = 1.0
    interval: stats.Interval | None = None

    @property
    def base(self) -> list[float]:
        return [v for b, _ in self.strata for v in b]

    @property
    def new(self) -> list[float]:
        return [v for _, n in self.strata for v in n]

    @property
    def change(self) -> float:
        """new/base (or new - base in points) as estimated; the threshold applies to it."""
        if self.interval is not None:
            return self.interval.estimate
        base, new = statistics.median(self.base), statistics.median(self.new)
        if self.threshold.metric.scale == "points":
            return new - base
        return new / base if base else float("inf")

    @property
    def significant(self) -> bool:
        return self.p_adjusted <= ALPHA

    @property
    def regression(self) -> bool:
        return self.significant and self.threshold.exceeded(self.change)


@dataclass(frozen=True)
class QualitativeRegression:
    cell: str
    what: str  # "not measured", "missing", "new finding", "new error", "worse finding"
    detail: str


@dataclass
class GateResult:
    checks: list[MetricCheck] = field(default_factory=list)
    qualitative: list[QualitativeRegression] = field(default_factory=list)
    worse_findings: list[QualitativeRegression] = field(default_factory=list)  # reported only
    power: list[str] = field(default_factory=list)  # what these repeats cannot detect
    mismatches: list[str] = field(default_factory=list)  # refused under --strict
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricCheck]:
        return [c for c in self.checks if c.regression]

    @property
    def failed(self) -> bool:
        return bool(self.qualitative or self.regressions)


def _findings_by_kind(cells: list[CellResult]) -> dict[str, list[Finding]]:
    """Each finding kind with its occurrences, at most one per repeat."""
    seen: dict[str, list[Finding]] = {}
    for cell in cells:
        for finding in {f.kind: f for f in cell.findings}.values():
            seen.setdefault(finding.kind, []).append(finding)
    return seen


def _in_most(count: int, repeats: list[CellResult]) -> bool:
    # Like a metric must differ significantly, a finding or an error must show in most
    # repeats: borderline ones (a stall on a busy machine, one timeout) come and go.
    return count * 2 > len(repeats)


def _error_kinds(cells: list[CellResult]) -> dict[str, int]:
    """Each (method, route, error) with the number of repeats that saw it."""
    seen: dict[str, int] = {}
    for cell in cells:
        failures = cell.load.failures_by_kind if cell.load else []
        for kind in {f"{e.method} {e.name} {e.error}" for e in failures}:
            seen[kind] = seen.get(kind, 0) + 1
    return seen


def _measured_share(cells: list[CellResult]) -> float:
    return sum(c.status == "ok" for c in cells) / len(cells)


def _qualitative(
    cell: str, base: list[CellResult], new: list[CellResult]
) -> list[QualitativeRegression]:
    found = []
    failed = [c.error or "unknown error" for c in new if c.status == "error"]
    if failed and _measured_share(new) < _measured_share(base):
        found.append(
            QualitativeRegression(
                cell, "not measured", f"{len(failed)} of {len(new)} repeats: {failed[0]}"
            )
        )
    base_kinds = {f.kind for c in base for f in c.findings}
    for kind, seen in _findings_by_kind(new).items():
        finding = seen[0]
        if kind not in base_kinds and finding.severity != "info" and _in_most(len(seen), new):
            found.append(QualitativeRegression(cell, "new finding", f"{kind}: {finding.summary}"))
    base_errors = _error_kinds(base)
    for kind, count in _error_kinds(new).items():
        if kind not in base_errors and _in_most(count, new):
            found.append(QualitativeRegression(cell, "new error", f"{kind} ({count} repeats)"))
    return found


def _numbers(findings: list[Finding], key: str) -> list[float]:
    return [float(v) for f in findings if isinstance(v := f.evidence.get(key), int | float)]


_RANK = {"info": 0, "warning": 1, "error": 2}


def _worse_findings(
    cell: str, base: list[CellResult], new: list[CellResult]
) -> list[QualitativeRegression]:
    """Findings on both sides whose severity rose or whose evidence figures grew."""
    worse = []
    base_seen = _findings_by_kind(base)
    for kind, seen in _findings_by_kind(new).items():
        before = base_seen.get(kind)
        if before is None or seen[0].severity == "info":
            continue
        if max(_RANK[f.severity] for f in seen) > max(_RANK[f.severity] for f in before):
            worse.append(QualitativeRegression(cell, "worse finding", f"{kind}: now an error"))
        grown = []
        for key in seen[0].evidence:
            old, now = _numbers(before, key), _numbers(seen, key)
            if not old or not now:
                continue
            old_median, now_median = statistics.median(old), statistics.median(now)
            if now_median > 0 and now_median > WORSE_FINDING_FACTOR * old_median:
                grown.append(f"{key} from {old_median:g} to {now_median:g}")
        if grown:
            worse.append(
                QualitativeRegression(cell, "worse finding", f"{kind}: {', '.join(grown)}")
            )
    return worse


def environment_differences(base: Environment, new: Environment) -> list[str]:
    return [
        f"environments differ, {key}: {getattr(base, key)} in the base, "
        f"{getattr(new, key)} in the new run"
        for key in CHECKED_ENVIRONMENT
        if getattr(base, key) != getattr(new, key)
    ]


def config_differences(cell: str, base: list[CellResult], new: list[CellResult]) -> list[str]:
    """What makes the same cell id measure different things, or measure them badly."""
    found = []
    for key in CHECKED_CONFIG:
        before = {str(getattr(c.config, key)) for c in base}
        after = {str(getattr(c.config, key)) for c in new}
        if before != after:
            found.append(f"{cell}: {key} differs: {', '.join(sorted(before))} in the base, "
                         f"{', '.join(sorted(after))} in the new run")  # fmt: skip
    models = [{c.load.latency_model for c in side if c.load} for side in (base, new)]
    if models[0] and models[1] and models[0] != models[1]:
        found.append(f"{cell}: latency model differs: {'/'.join(sorted(models[0]))} in the "
                     f"base, {'/'.join(sorted(models[1]))} in the new run")  # fmt: skip
    for label, side in (("base", base), ("new", new)):
        if any(c.load and c.load.generator_saturated for c in side):
            found.append(f"{cell}: the load generator was saturated in the {label} run: "
                         "its figures measure Locust, not the target")  # fmt: skip
    return found


def _unstable(samples: list[float]) -> bool:
    if len(samples) < 2 or statistics.mean(samples) == 0:
        return False
    return statistics.stdev(samples) / abs(statistics.mean(samples)) >= UNSTABLE_CV


def _by_cell(result: RunResult) -> dict[str, list[CellResult]]:
    cells: dict[str, list[CellResult]] = {}
    for cell in result.cells:
        cells.setdefault(cell.config.id, []).append(cell)
    return cells


def _test(cell: str, threshold: Threshold, strata: Strata) -> MetricCheck:
    log = threshold.metric.scale == "ratio"
    interval = (
        stats.shift_interval(strata[0][0], strata[0][1], log=log)
        if len(strata) == 1
        else stats.pooled_interval(strata, log=log)
    )
    p = stats.rank_test(strata, threshold.metric.worse)
    return MetricCheck(cell, threshold, strata, p, interval=interval)


def weights(checks: list[MetricCheck]) -> list[float]:
    """Each check's share of ALPHA: half to the matrix-wide checks, half to the per-cell
    ones (all of it when there is one cell), none to checks whose values all tie."""
    live = [any(stats.can_differ(s) for s in c.strata) for c in checks]
    matrix = sum(alive and c.cell == ALL_CELLS for c, alive in zip(checks, live, strict=True))
    cells = sum(alive and c.cell != ALL_CELLS for c, alive in zip(checks, live, strict=True))
    share = MATRIX_SHARE if matrix and cells else (1.0 if matrix else 0.0)
    return [
        0.0 if not alive else (share / matrix if c.cell == ALL_CELLS else (1 - share) / cells)
        for c, alive in zip(checks, live, strict=True)
    ]


def power_check(checks: list[MetricCheck], shares: list[float], cells: int) -> list[str]:
    """Before any verdict: can a change of the threshold's size in one cell be caught?
    Holm's first step (the check's share of ALPHA) is what a lone regression has to
    reach."""
    per_cell = [c for c in checks if c.cell != ALL_CELLS]
    if not per_cell:
        return []
    family = len(checks)
    weight = max((w for c, w in zip(checks, shares, strict=True) if c.cell != ALL_CELLS))
    alpha = ALPHA * (weight or 1 / family)
    n_base = min(len(c.base) for c in per_cell)
    n_new = min(len(c.new) for c in per_cell)
    if stats.smallest_p(n_base, n_new) > alpha:
        needed = stats.repeats_needed(None, None, alpha)
        broad = " and changes shared by most cells" if cells > 1 else ""
        return [
            f"with {n_base} repeats in the base and {n_new} in the new run, no single cell's "
            f"change can be significant: the smallest p-value they allow is "
            f"{stats.smallest_p(n_base, n_new):.3g}, and a cell's share of the {family} "
            f"checks needs {alpha:.3g}; only qualitative regressions{broad} are gated: use "
            f"{needed} repeats a side or more"
        ]
    warnings = []
    for threshold in dict.fromkeys(c.threshold for c in per_cell):
        target = threshold.log_shift
        mine = [c for c in per_cell if c.threshold == threshold]
        spread = stats.log_spread([s for c in mine for s in c.strata[0]])
        if target is None or spread is None:
            continue
        shift = stats.detectable_shift(n_base, n_new, spread, alpha)
        if shift is not None and shift > target:
            needed = stats.repeats_needed(spread, target, alpha)
            use = f"use {needed} repeats a side" if needed else "even 100 repeats would not do"
            warnings.append(
                f"{threshold.metric.name}: with {n_base}/{n_new} repeats and a run-to-run "
                f"spread of {spread:.0%}, one cell's change must reach about "
                f"{_percent(threshold, shift)} to be caught 4 times in 5 (the threshold is "
                f"{threshold.fraction:.0%}): this gate cannot detect a change below that; {use}"
            )
    return warnings


def _percent(threshold: Threshold, shift: float) -> str:
    factor = math.exp(-shift) if threshold.metric.better == "higher" else math.exp(shift)
    return f"{abs(factor - 1):.0%}"


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
            difference.replace("environments differ", f"environments differ{where}", 1)
            for difference in environment_differences(
                _environment(base, base_shard), _environment(new, new_shard)
            )
        ]
    return list(dict.fromkeys(warnings))


def compare(base: RunResult, new: RunResult, thresholds: list[Threshold]) -> GateResult:
    gate = GateResult()
    base_cells, new_cells = _by_cell(base), _by_cell(new)
    gate.mismatches += _environment_warnings(
        base,
        new,
        {(base_cells[c][0].shard, new_cells[c][0].shard) for c in base_cells if c in new_cells},
    )
    gate.qualitative += [
        QualitativeRegression(cell, "missing", "measured in the base, not in the new run")
        for cell in base_cells
        if cell not in new_cells
    ]
    gate.warnings += [f"{cell}: no baseline" for cell in new_cells if cell not in base_cells]
    shared = [c for c in base_cells if c in new_cells]
    for cell_id in shared:
        base_repeats, new_repeats = base_cells[cell_id], new_cells[cell_id]
        gate.qualitative += _qualitative(cell_id, base_repeats, new_repeats)
        gate.worse_findings += _worse_findings(cell_id, base_repeats, new_repeats)
        gate.mismatches += config_differences(cell_id, base_repeats, new_repeats)
    for threshold in thresholds:
        strata = []
        for cell_id in shared:
            b = values(threshold.metric, base_cells[cell_id])
            n = values(threshold.metric, new_cells[cell_id])
            if b and n:
                strata.append((b, n))
                gate.checks.append(_test(cell_id, threshold, [(b, n)]))
                gate.warnings += [
                    f"{cell_id}: {threshold.metric.name} is unstable in the {label} run "
                    f"(spread >= {UNSTABLE_CV:.0%} of the mean)"
                    for label, samples in (("base", b), ("new", n))
                    if threshold.metric.scale == "ratio" and _unstable(samples)
                ]
        if len(strata) > 1:
            gate.checks.append(_test(ALL_CELLS, threshold, strata))
    shares = weights(gate.checks)
    adjusted = stats.holm([c.p_value for c in gate.checks], shares)
    gate.checks = [
        MetricCheck(c.cell, c.threshold, c.strata, c.p_value, p, c.interval)
        for c, p in zip(gate.checks, adjusted, strict=True)
    ]
    gate.power = power_check(gate.checks, shares, len(shared))
    return gate
