"""The gate's verdict as Markdown (a PR comment) and JUnit XML (one case per cell x metric)."""

from .gate import GateResult, MetricCheck
from .junit import Case, to_xml
from .markdown import cell


def _p(check: MetricCheck) -> str:
    return "-" if check.p_adjusted is None else f"{check.p_adjusted:.3f}"


def _outcome(check: MetricCheck) -> str:
    if check.regression:
        return "❌ regression"
    if check.threshold.exceeded(check.ratio):
        return "🔸 beyond threshold, not significant"
    return "✅ ok"


def markdown(gate: GateResult) -> str:
    verdict = "❌ regression" if gate.failed else "✅ no regression"
    lines = [f"## sessionbench gate: {verdict}", ""]
    if gate.warnings:
        lines += ["**Warnings**", ""] + [f"- ⚠️ {cell(w)}" for w in gate.warnings] + [""]
    if gate.qualitative:
        lines += ["**Qualitative regressions** (fail regardless of thresholds)", ""]
        lines += [f"- ❌ {cell(q.cell)}: {q.what}: {cell(q.detail)}" for q in gate.qualitative]
        lines.append("")
    if gate.checks:
        lines += [
            "| cell | metric | base median | new median | new/base | p (Holm) | limit | result |",
            "|---|---|---:|---:|---:|---:|---|---|",
        ]
        for check in sorted(gate.checks, key=lambda c: not c.regression):
            base = sorted(check.base)[len(check.base) // 2]
            new = sorted(check.new)[len(check.new) // 2]
            lines.append(
                f"| {cell(check.cell)} | {check.threshold.metric.name} | {base:,.1f} | "
                f"{new:,.1f} | {check.ratio:.3f} | {_p(check)} | {check.threshold} | "
                f"{_outcome(check)} |"
            )
    return "\n".join(lines) + "\n"


def _check_case(check: MetricCheck) -> Case:
    name = f"{check.threshold.metric.name} within {check.threshold}"
    if not check.regression:
        return Case(check.cell, name)
    return Case(
        check.cell,
        name,
        failure=f"{check.threshold.metric.label}: new/base {check.ratio:.3f} (p={_p(check)})",
        details=f"base: {check.base}\nnew: {check.new}",
    )


def junit(gate: GateResult) -> str:
    cases = [_check_case(check) for check in gate.checks]
    cases += [Case(q.cell, q.what, failure=q.detail) for q in gate.qualitative]
    return to_xml("sessionbench gate", cases)
