"""Connections the target's pools may open, against the server's limit, per cell.

Under several target workers each process has its own pool: the cell's capacity is
workers x (pool_size + max_overflow).  A warning line for each cell whose capacity
exceeds what the server allows; the terminal and Markdown summaries print them.
"""

from sessionbench.capacity import connection_budget
from sessionbench.results import RunResult


def capacity_warnings(result: RunResult) -> list[str]:
    seen: set[str] = set()
    lines = []
    for cell in result.cells:
        config = cell.config
        if config.id in seen:  # once per cell, however many repeats
            continue
        seen.add(config.id)
        budget = connection_budget(
            config.target_workers, config.pool, config.server_max_connections
        )
        if budget.exceeds:
            lines.append(
                f"{config.id}: the pools may open more connections than the server allows: "
                f"{budget.describe()}; the last ones get 'too many clients'"
            )
    return lines
