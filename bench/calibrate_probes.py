"""Benchmarks of the probes themselves (figures printed, not timed tests).

- accuracy: a target stalls its loop for exactly N ms on request; the loop-lag probe
  must report each stall within +-10 % (N = 20, 50, 200 ms);
- overhead: requests/s of `async-session` (or a user's app, `--app`) with every probe
  on, divided by the same with probes off, measured alternately in one run: should be
  >= 0.97.  Each ratio comes with its 95 % interval (Hodges-Lehmann, as the gate's),
  so a machine whose runs scatter more than the probes cost says so rather than
  print a verdict its runs cannot carry.
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
from sessionbench.reports import stats
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.config import TargetConfig
from sessionbench.targets.pools import POOLS
from sessionbench.targets.registry import strategies

from .databases.catalogue import DATABASES, ProvisionOptions
from .matrix import expand
from .ownapp.plan import AppOptions, app_plan
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
    """A built-in cell whose throughput is measured with the probes on and off."""

    strategy: str = "async-session"
    scenario: str = "crud"
    database: str = "sqlite"

    @property
    def label(self) -> str:
        return f"{self.strategy} ({self.scenario}, {self.database})"

    def plan(self, output: Path, duration_s: float) -> RunPlan:
        cells = expand(
            [strategies().get(self.strategy)],
            [DATABASES.get(self.database)],
            [POOLS.get("large")],
            [load_scenarios().get(self.scenario)],
            duration_s=duration_s,
            users=16,
        )
        return RunPlan(cells, output)


@dataclass(frozen=True)
class OverheadApp:
    """A user's app (`--app`), measured with the probes on and off."""

    options: AppOptions

    @property
    def label(self) -> str:
        databases = ", ".join(self.options.databases or ["sqlite"])
        return f"{self.options.app} ({databases})"

    def plan(self, output: Path, duration_s: float) -> RunPlan:
        options = replace(self.options, duration_s=duration_s)
        return app_plan(options, output, repeat=1, provision=ProvisionOptions())


@dataclass(frozen=True)
class Overhead:
    """Per run with probes on and off: requests/s and the target's CPU per request (ms)."""

    rps_on: list[float]
    rps_off: list[float]
    cpu_on: list[float]
    cpu_off: list[float]

    @property
    def ratio(self) -> float:
        """Throughput with probes on over off (medians): the figure the goal is set on."""
        return _ratio(self.rps_on, self.rps_off)

    @property
    def cpu_ratio(self) -> float:
        """CPU per request off over on: the same ratio, far less moved by the machine's
        other work, since it counts only what the target itself spent."""
        return _ratio(self.cpu_off, self.cpu_on)


def ratio_interval_text(numerator: list[float], denominator: list[float]) -> str:
    """The 95 % interval of numerator / denominator, and whether it clears the goal."""
    interval = stats.shift_interval(denominator, numerator, log=True)
    if interval is None:
        return "no interval"
    if interval.low >= OVERHEAD_FLOOR:
        reading = "the goal is met"
    elif interval.high < OVERHEAD_FLOOR:
        reading = "the goal is missed"
    else:
        reading = "too few or too scattered runs to tell against the goal: more --rounds"
    return f"{interval.confidence:.0%} interval {interval.low:.3f}-{interval.high:.3f}: {reading}"


def _ratio(numerator: list[float], denominator: list[float]) -> float:
    if not numerator or not denominator:
        return 0.0
    return statistics.median(numerator) / statistics.median(denominator)


def measure_overhead(plan: RunPlan, rounds: int) -> Overhead:
    """The plan's cells with probes on and off, alternating, `rounds` of each."""
    cells = [
        replace(cell, probes=on)
        for _ in range(rounds)
        for cell in plan.cells
        for on in (True, False)
    ]
    result = execute(replace(plan, cells=cells))
    rps: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for cell_result, cell in zip(result.cells, cells, strict=True):
        if cell_result.load is not None:
            rps[cell.probes].append(cell_result.load.requests_per_s)
            if (ms := cell_result.load.target_cpu_ms_per_request) is not None:
                cpu[cell.probes].append(ms)
    return Overhead(rps[True], rps[False], cpu[True], cpu[False])


def run(
    *,
    output: Path,
    rounds: int,
    duration_s: float,
    subject: OverheadCell | OverheadApp,
    console: Console,
) -> bool:
    """Print both benchmarks; True when both meet their targets."""
    plan = subject.plan(output, duration_s)  # bad options fail here, before any run
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
    overhead = measure_overhead(plan, rounds)
    ok &= overhead.ratio >= OVERHEAD_FLOOR
    console.print(
        f"probe overhead: {subject.label}, {duration_s:.0f} s, medians of {rounds} alternating "
        f"runs (target >= {OVERHEAD_FLOOR}):\n"
        f"  req/s probes on {_figures(overhead.rps_on, 0)} / off "
        f"{_figures(overhead.rps_off, 0)} = {overhead.ratio:.3f} "
        f"({ratio_interval_text(overhead.rps_on, overhead.rps_off)})\n"
        f"  target CPU per request, ms: on {_figures(overhead.cpu_on, 3)} / off "
        f"{_figures(overhead.cpu_off, 3)} -> off/on = {overhead.cpu_ratio:.3f} "
        f"({ratio_interval_text(overhead.cpu_off, overhead.cpu_on)})"
    )
    return ok


def _figures(values: list[float], digits: int) -> str:
    """The median, then each run's figure."""
    if not values:
        return "- (no run finished)"
    runs = ", ".join(f"{v:,.{digits}f}" for v in values)
    return f"{statistics.median(values):,.{digits}f} ({runs})"
