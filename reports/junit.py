"""JUnit XML: one test case per cell and check, so CI systems list failures natively.

Checks per cell: `ran` (the cell was measured), `requests answered` (no request
failed, was unfinished when load stopped or, open model, was dropped; GET /fail's
deliberate 500 is an answer), `no unexpected findings` (every finding is one the
strategy is known to have) and `expected findings present` (the diagnostics caught
what the strategy is known to have).  The gate writes its verdict with the same
builder, one test case per cell and metric.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sessionbench.results import RunResult

from . import load_figures
from .summary import CellSummary, summarise


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    failure: str | None = None  # one line: the message CI shows
    skipped: str | None = None
    details: str = ""  # the body under the failure: evidence, hints


def to_xml(suite_name: str, cases: list[Case]) -> str:
    """ElementTree escapes every attribute and text, so run data cannot break the XML."""
    root = ET.Element("testsuites")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(sum(c.failure is not None for c in cases)),
        skipped=str(sum(c.skipped is not None for c in cases)),
        errors="0",
    )
    for case in cases:
        element = ET.SubElement(suite, "testcase", classname=case.classname, name=case.name)
        if case.failure is not None:
            ET.SubElement(element, "failure", message=case.failure).text = case.details
        elif case.skipped is not None:
            ET.SubElement(element, "skipped", message=case.skipped)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cell_cases(summary: CellSummary) -> list[Case]:
    name = summary.id
    if summary.errors:
        not_run = "not measured"
        return [
            Case(name, "ran", failure=summary.errors[0], details="\n".join(summary.errors)),
            Case(name, "requests answered", skipped=not_run),
            Case(name, "no unexpected findings", skipped=not_run),
            Case(name, "expected findings present", skipped=not_run),
        ]
    unexpected = summary.unexpected_findings
    missing = summary.missing_findings
    return [
        Case(name, "ran"),
        _answered(summary),
        Case(
            name,
            "no unexpected findings",
            failure=("; ".join(f"{f.kind}: {f.summary}" for f in unexpected) or None),
            details="\n".join(f"{f.kind}: {f.explanation}\nfix: {f.hint}" for f in unexpected),
        ),
        Case(
            name,
            "expected findings present",
            failure=(f"not found: {', '.join(missing)}" if missing else None),
        ),
    ]


def _answered(summary: CellSummary) -> Case:
    if not load_figures.failed(summary):
        return Case(summary.id, "requests answered")
    causes = load_figures.causes(summary)
    listed = [f"{c.occurrences} x {c.route}: {c.error}" for c in causes]
    return Case(
        summary.id,
        "requests answered",
        failure=f"{load_figures.error_percent(summary)} of requests failed"
        + (f": {'; '.join(listed[:3])}" if listed else ""),
        details="\n".join(listed),
    )


def render(result: RunResult) -> str:
    cases = [case for summary in summarise(result) for case in _cell_cases(summary)]
    return to_xml("sessionbench", cases)
