"""The README's "pattern -> what sessionbench found" table, from real runs' results.json.

    python -m sessionbench.bench.seed_table RESULTS.json [RESULTS.json ...]

One row per seed cell: the post, the database, what was expected and what was found
(info findings such as GC pauses left out), and the decisive figure of each finding.
"""

import sys
from pathlib import Path

from sessionbench.targets.registry import strategies

from .resultfile import load_result


def seed_table(paths: list[Path]) -> str:
    registry = strategies()
    rows = [
        "| pattern | post | database | expected | found | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for path in paths:
        for cell in load_result(path).cells:
            strategy = registry.get(cell.config.strategy)
            if strategy.source is None or not strategy.runs_on(cell.config.database):
                continue
            findings = [f for f in cell.findings if f.severity != "info"]
            rows.append(
                f"| `{strategy.name}` | {strategy.source[:3]} | {cell.config.database}"
                f"+{cell.config.driver} | {', '.join(strategy.expected_findings) or 'healthy'} | "
                f"{', '.join(f.kind for f in findings) or 'healthy'} | "
                + "; ".join(f.summary for f in findings).replace("|", "/")
                + " |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    print(seed_table([Path(arg) for arg in sys.argv[1:]]))
