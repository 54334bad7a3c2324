"""The gate's verdict as Markdown (a PR comment) and JUnit XML (one case per check)."""

import statistics

from . import stats
from .gate import ALL_CELLS, GateResult, MetricCheck
from .junit import Case, to_xml
from .markdown import cell


def change_text(check: MetricCheck) -> str:
    if check.threshold.metric.scale == "points":
        return f"{check.change * 100:+.2f} pp"
    return f"{check.change:.3f}"


def interval_text(interval: stats.Interval | None, points: bool) -> str:
    """`0.781 to 0.830`, with the coverage reached when small samples allow less than 95 %."""
    if interval is None:
        return "-"
    low, high = (
        (f"{interval.low * 100:+.2f}", f"{interval.high * 100:+.2f} pp")
        if points
        else (f"{interval.low:.3f}", f"{interval.high:.3f}")
    )
    short = f" ({interval.confidence:.0%})" if interval.confidence < 0.95 - 1e-9 else ""
    return f"{low} to {high}{short}"


def _median(check: MetricCheck, side: list[float]) -> str:
    value = statistics.median(side)
    return f"{value * 100:.2f} %" if check.threshold.metric.scale == "points" else f"{value:,.1f}"


def _outcome(check: MetricCheck) -> str:
    if check.regression:
        return "❌ regression"
    if check.threshold.exceeded(check.change):
        return "🔸 beyond threshold, not significant"
    return "✅ ok"


def _table(checks: list[MetricCheck]) -> list[str]:
    lines = [
        "| cell (repeats) | metric | base median | new median | change | 95 % CI | p (Holm) "
        "| limit | result |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    order = sorted(checks, key=lambda c: (not c.regression, c.cell != ALL_CELLS))
    for check in order:
        points = check.threshold.metric.scale == "points"
        repeats = f"{len(check.base)}/{len(check.new)}"
        lines.append(
            f"| {cell(check.cell)} ({repeats}) | {check.threshold.metric.name} | "
            f"{_median(check, check.base)} | {_median(check, check.new)} | "
            f"{change_text(check)} | {interval_text(check.interval, points)} | "
            f"{check.p_adjusted:.3g} | {check.threshold} | {_outcome(check)} |"
        )
    return lines


def markdown(gate: GateResult) -> str:
    verdict = "❌ regression" if gate.failed else "✅ no regression"
    lines = [f"## sessionbench gate: {verdict}", ""]
    notes = [("Power", gate.power), ("Mismatches", gate.mismatches), ("Warnings", gate.warnings)]
    for title, items in notes:
        if items:
            lines += [f"**{title}**", ""] + [f"- ⚠️ {cell(w)}" for w in items] + [""]
    if gate.qualitative:
        lines += ["**Qualitative regressions** (fail regardless of thresholds)", ""]
        lines += [f"- ❌ {cell(q.cell)}: {q.what}: {cell(q.detail)}" for q in gate.qualitative]
        lines.append("")
    if gate.worse_findings:
        lines += ["**Findings that got worse** (reported, not gated)", ""]
        lines += [f"- 🔸 {cell(q.cell)}: {cell(q.detail)}" for q in gate.worse_findings]
        lines.append("")
    if gate.checks:
        lines += _table(gate.checks)
        lines += [
            "",
            f"Change: Hodges-Lehmann estimate of new/base (for `{ALL_CELLS}`: the geometric "
            "mean of the cells' ratios of medians; error rates in percentage points); p: "
            "one-sided permutation rank test, Holm-adjusted over all "
            f"{len(gate.checks)} checks (weighted: the matrix-wide checks share half of "
            "the 5 %, the per-cell checks the other half; checks whose values all tie, "
            "none).",
        ]
    return "\n".join(lines) + "\n"


def _check_case(check: MetricCheck) -> Case:
    name = f"{check.threshold.metric.name} within {check.threshold}"
    if not check.regression:
        return Case(check.cell, name)
    return Case(
        check.cell,
        name,
        failure=f"{check.threshold.metric.label}: change {change_text(check)} "
        f"(p={check.p_adjusted:.3g})",
        details="\n".join(f"base: {b}\nnew: {n}" for b, n in check.strata),
    )


def junit(gate: GateResult) -> str:
    cases = [_check_case(check) for check in gate.checks]
    cases += [Case(q.cell, q.what, failure=q.detail) for q in gate.qualitative]
    return to_xml("sessionbench gate", cases)
