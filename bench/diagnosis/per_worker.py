"""Rules about one process, judged per target worker (`run --target-workers N`).

A pool, a threadpool and an event loop belong to one process: a stall blocks one
worker's loop, and N pools of 15 at 15 each are not one pool of 15 exhausted.  Such a
rule reads each worker's own reading and stalls; the worst worker's finding is the
cell's, naming every worker where the rule fired.  With one process nothing changes.
"""

import dataclasses
from collections.abc import Callable
from functools import wraps

from sessionbench.results import Finding, WorkerReading

from .evidence import CellEvidence

Rule = Callable[[CellEvidence], Finding | None]


def worker_evidence(e: CellEvidence, worker: WorkerReading) -> CellEvidence:
    """One worker alone: its reading, its stalls, the requests it served."""
    diagnostics = e.diagnostics.model_copy(
        update={"stalls": [s for s in e.stalls if s.worker == worker.pid], "workers": []}
    )
    return dataclasses.replace(
        e, final=worker.reading, diagnostics=diagnostics, requests=worker.reading.requests.started
    )


def _margin(finding: Finding) -> float:
    return finding.decided.margin if finding.decided else 0.0


def per_worker(rule: Rule) -> Rule:
    @wraps(rule)
    def judged(e: CellEvidence) -> Finding | None:
        workers = e.diagnostics.workers
        if len(workers) < 2:
            return rule(e)
        found = [(w.pid, f) for w in workers if (f := rule(worker_evidence(e, w))) is not None]
        if not found:
            return None
        worst_pid, worst = max(found, key=lambda pair: _margin(pair[1]))
        pids = ", ".join(str(pid) for pid, _ in found)
        worst.evidence["workers"] = f"{len(found)} of {len(workers)} (pid {pids})"
        worst.evidence["worst_worker"] = worst_pid
        worst.summary += (
            f" (in {len(found)} of {len(workers)} workers, pid {pids}; figures of pid {worst_pid})"
        )
        return worst

    return judged
