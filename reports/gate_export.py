"""The candidate's figures for benchmark history kept outside sessionbench.

- github-action-benchmark: its `customBiggerIsBetter` and `customSmallerIsBetter`
  tools each read a JSON list of `{name, unit, value, range, extra}`; one file holds
  one direction, so the export is a directory with one file named after each tool.
- Bencher Metric Format (BMF): `{benchmark: {measure: {value, lower_value,
  upper_value}}}`.

One entry per cell and gated metric: the median over the repeats, the range being the
lowest and highest repeat; error rates in percent.
"""

import json
import statistics
from pathlib import Path

from sessionbench.results import CellResult, RunResult

from .metrics import Metric, values
from .thresholds import Threshold

GAB_TOOLS = {"higher": "customBiggerIsBetter", "lower": "customSmallerIsBetter"}


def _cells(result: RunResult) -> dict[str, list[CellResult]]:
    cells: dict[str, list[CellResult]] = {}
    for cell in result.cells:
        cells.setdefault(cell.config.id, []).append(cell)
    return cells


def _figures(result: RunResult, metrics: list[Metric]) -> list[tuple[str, Metric, list[float]]]:
    """Error rates as percentages, as their unit says."""
    return [
        (cell_id, metric, [v * 100 for v in found] if metric.scale == "points" else found)
        for cell_id, repeats in _cells(result).items()
        for metric in metrics
        if (found := values(metric, repeats))
    ]


def _metrics(thresholds: list[Threshold]) -> list[Metric]:
    return list(dict.fromkeys(t.metric for t in thresholds))


def github_action_benchmark(result: RunResult, thresholds: list[Threshold]) -> dict[str, str]:
    """File name -> JSON text, one file per direction that has entries."""
    files: dict[str, list[dict[str, str | float]]] = {}
    for cell_id, metric, found in _figures(result, _metrics(thresholds)):
        files.setdefault(f"{GAB_TOOLS[metric.better]}.json", []).append(
            {
                "name": f"{cell_id} {metric.name}",
                "unit": metric.unit,
                "value": statistics.median(found),
                "range": f"{min(found):g}..{max(found):g}",
                "extra": f"median of {len(found)} repeats",
            }
        )
    return {name: json.dumps(entries, indent=2) + "\n" for name, entries in files.items()}


def bencher_metric_format(result: RunResult, thresholds: list[Threshold]) -> str:
    document: dict[str, dict[str, dict[str, float]]] = {}
    for cell_id, metric, found in _figures(result, _metrics(thresholds)):
        document.setdefault(cell_id, {})[metric.name] = {
            "value": statistics.median(found),
            "lower_value": min(found),
            "upper_value": max(found),
        }
    return json.dumps(document, indent=2) + "\n"


def write_github_action_benchmark(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
