"""Benchmarks of the probes themselves (figures printed, not timed tests).

- accuracy: a target stalls its loop for exactly N ms on request; the loop-lag probe
  must report each stall within +-10 % (N = 20, 50, 200 ms);
- overhead: requests/s of `async-session` with every probe on, divided by the same
  with probes off, measured alternately in one run: should be >= 0.97.
"""

import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from rich.console import Console

from sessionbench.errors import CellError
from sessionbench.reading import StallReading
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.config import TargetConfig
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .databases.catalogue import DATABASES
from .matrix import expand
from .processes import ChildProcesses
from .runner import RunPlan, execute
from .sampler import ProbeClient
from .server import running_target

STALLS_MS = (20, 50, 200)
REPEATS = 5
ACCURACY = 0.10
OVERHEAD_FLOOR = 0.97


@dataclass(frozen=True)
class Accuracy:
    stall_ms: int
    measured_ms: list[float]

    @property
    def worst_error(self) -> float:
        return max(abs(m - self.stall_ms) / self.stall_ms for m in self.measured_ms)


def measure_accuracy(workdir: Path) -> list[Accuracy]:
    config = TargetConfig(
        strategy="calibration-stall",
        database_url=f"sqlite:///{workdir / 'unused.db'}",
        pool=POOLS.get("default"),
    )
    results = []
    with (
        ChildProcesses() as children,
        running_target(config, children, workdir) as target,
        httpx.Client(base_url=target.base_url, timeout=10) as client,
    ):
        probes = ProbeClient(target.base_url)
        try:
            for stall_ms in STALLS_MS:
                measured = []
                for _ in range(REPEATS):
                    _read(probes)  # move the stall cursor past what came before
                    client.get("/stall", params={"ms": stall_ms})
                    time.sleep(0.1 + stall_ms / 1000)
                    measured.append(max((s.duration_ms for s in _read(probes)), default=0.0))
                results.append(Accuracy(stall_ms, measured))
        finally:
            probes.close()
    return results


def _read(probes: ProbeClient) -> list[StallReading]:
    """The stalls since the previous reading."""
    reading = probes.read()
    if reading is None:
        raise CellError("the calibration target's probe did not answer")
    return reading.stalls


@dataclass(frozen=True)
class OverheadCell:
    """The cell whose throughput is measured with the probes on and off."""

    strategy: str = "async-session"
    scenario: str = "crud"
    database: str = "sqlite"


def measure_overhead(
    output: Path, rounds: int, duration_s: float, subject: OverheadCell
) -> tuple[list[float], list[float]]:
    """requests/s with probes on and off, alternating, `rounds` of each."""
    [cell] = expand(
        [strategies().get(subject.strategy)],
        [DATABASES.get(subject.database)],
        [POOLS.get("large")],
        [load_scenarios().get(subject.scenario)],
        duration_s=duration_s,
        users=16,
    )
    cells = [replace(cell, probes=on) for _ in range(rounds) for on in (True, False)]
    result = execute(RunPlan(cells, output))
    rps = {True: [], False: []}  # type: dict[bool, list[float]]
    for cell_result, cell in zip(result.cells, cells, strict=True):
        if cell_result.load is not None:
            rps[cell.probes].append(cell_result.load.requests_per_s)
    return rps[True], rps[False]


def run(
    *, output: Path, rounds: int, duration_s: float, subject: OverheadCell, console: Console
) -> bool:
    """Print both benchmarks; True when both meet their targets."""
    with tempfile.TemporaryDirectory(prefix="sessionbench-") as workdir:
        accuracy = measure_accuracy(Path(workdir))
    ok = True
    console.print("loop-lag accuracy (stall N ms on the loop; probe's reading):")
    for row in accuracy:
        good = row.worst_error <= ACCURACY
        ok &= good
        readings = ", ".join(f"{m:.1f}" for m in row.measured_ms)
        console.print(
            f"  N = {row.stall_ms:>3} ms: {readings} ms; worst error {row.worst_error:.1%} "
            f"({'ok' if good else 'over 10 %'})"
        )
    on, off = measure_overhead(output, rounds, duration_s, subject)
    ratio = statistics.median(on) / statistics.median(off) if on and off else 0.0
    ok &= ratio >= OVERHEAD_FLOOR
    console.print(
        f"probe overhead: {subject.strategy} ({subject.scenario}, {subject.database}, "
        f"{duration_s:.0f} s) req/s probes on {statistics.median(on) if on else 0:,.0f}"
        f" / off {statistics.median(off) if off else 0:,.0f} = {ratio:.3f} "
        f"(target >= {OVERHEAD_FLOOR}; medians of {rounds} alternating runs)"
    )
    return ok
