"""How a target came back from a fault, read from the locustfile's timeline of answers.

The timeline is successes per time bin and each failure with its start, end and cause,
in seconds since the load window started (`scenarios/locustfile.py`).  Recovered: the
first bin at or after the fault's hit from which every bin of the next
RECOVERY_WINDOW_S answered at least RECOVERED_SHARE of the pre-fault median and failed
nothing.  Failed during the fault: failures that ended from the hit until recovery (or
the end of the window, when it never recovered).
"""

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionbench.results import FaultFailure, FaultResult
from sessionbench.scenarios.faults import Fault

# Half the pre-fault throughput: per-bin throughput on a shared 2-core machine spreads
# by a third around its median, so half is clearly serving again, while a server still
# down or a pool still reconnecting answers close to nothing.
RECOVERED_SHARE = 0.5
# Four quarter-second bins in a row: one good bin between failures is not recovery.
RECOVERY_WINDOW_S = 1.0
# Users spawning and first connections: not part of the normal throughput.
WARMUP_S = 0.5
# Failures kept in the result (from the hit on), enough to re-diagnose any fault here.
FAILURES_KEPT = 500


@dataclass
class Injection:
    """What the harness did (`fault_injection.py`), in seconds since the load window
    started."""

    injected_at_s: float | None = None
    hit_at_s: float | None = None  # when it met the clients (the end of their pause)
    took_s: float = 0.0
    affected: int = 0  # connections terminated
    note: str = ""  # why it was not injected


def read_timeline(ledger_path: Path) -> dict[str, Any] | None:
    try:
        timeline = json.loads(ledger_path.read_text()).get("timeline")
    except (OSError, ValueError):
        return None
    return timeline if isinstance(timeline, dict) else None


def _dead_from(fault: Fault, at_s: float | None, took_s: float, hit_s: float) -> float | None:
    """From when the target's pooled connections were certainly closed by the server: a
    request that began later and lost its connection was handed a dead one."""
    if at_s is None:
        return None
    if fault.kind == "terminate":  # pg_terminate_backend / KILL returned
        return round(at_s + took_s, 4)
    if fault.kind == "idle-timeout":  # idle since the clients paused, closed after the timeout
        return round(hit_s - fault.pause_s + fault.idle_timeout_s, 4)
    return at_s  # restart: the fast shutdown closes every session as it begins


def _first_recovered_bin(
    ok: list[int], failed: list[int], first: int, floor: float, window: int
) -> int | None:
    for k in range(first, len(ok) - window + 1):
        if all(ok[i] >= floor and failed[i] == 0 for i in range(k, k + window)):
            return k
    return None


def recovery(
    timeline: dict[str, Any] | None, fault: Fault, injection: Injection, window_s: float
) -> FaultResult:
    at_s = injection.injected_at_s
    hit_s = injection.hit_at_s if injection.hit_at_s is not None else fault.at * window_s
    result = FaultResult(
        kind=fault.kind, injected_at_s=at_s, hit_at_s=round(hit_s, 4), took_s=injection.took_s,
        affected=injection.affected, note=injection.note, pause_s=fault.pause_s,
        dead_from_s=_dead_from(fault, at_s, injection.took_s, hit_s),
        recovered_share=RECOVERED_SHARE, recovery_window_s=RECOVERY_WINDOW_S,
    )  # fmt: skip
    if timeline is None:
        result.note = result.note or "no timeline from the load generator"
        return result
    bin_s = float(timeline["bin_s"])
    bins = max(math.ceil(window_s / bin_s), 1)
    ok = [int(timeline["ok_per_bin"].get(str(i), 0)) for i in range(bins)]
    failed = [0] * bins
    failures = [FaultFailure(start_s=s, end_s=e, error=err) for s, e, err in timeline["failed"]]
    for failure in failures:
        failed[min(max(int(failure.end_s // bin_s), 0), bins - 1)] += 1
    result.bin_s, result.ok_per_bin, result.failed_per_bin = bin_s, ok, failed
    pause_from = hit_s - fault.pause_s if fault.pause_s else at_s
    before = ok[math.ceil(WARMUP_S / bin_s) : int((pause_from or hit_s) // bin_s)]
    if not before or at_s is None:
        result.note = result.note or "no normal throughput before the fault to recover to"
        return result
    baseline = statistics.median(before)
    result.baseline_per_s = round(baseline / bin_s, 1)
    window = round(RECOVERY_WINDOW_S / bin_s)
    k = _first_recovered_bin(ok, failed, int(hit_s // bin_s), baseline * RECOVERED_SHARE, window)
    until = math.inf
    if k is not None:
        until = max(k * bin_s, hit_s)
        result.recovered_at_s = round(until, 3)
        result.time_to_recover_s = round(until - hit_s, 3)
    during = [f for f in failures if hit_s <= f.end_s < until]
    result.failed = len(during)
    result.failures = [f for f in failures if f.end_s >= hit_s][:FAILURES_KEPT]
    return result
