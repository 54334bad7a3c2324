"""Is the load generator the bottleneck?  Locust's `FastHttpUser` against `wrk`.

Both drive `GET /health` of the same running target at the same connection count, in
one run, alternating wrk / Locust / wrk so that drift of the machine falls on both.
The figure is Locust's requests/s over wrk's (target: >= 0.95); Locust's own CPU use
is printed beside it, since a generator at a full core measures itself.  With
`--workers N` Locust's distributed mode (a master and N workers) is measured too, in
the same rounds, so the figures say what more processes buy on this machine.
"""

import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console

from sessionbench.errors import InfrastructureError
from sessionbench.results import LoadResult
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.config import TargetConfig
from sessionbench.targets.pools import POOLS

from .loadgen import drive
from .locust_results import GENERATOR_SATURATION_PERCENT
from .processes import ChildProcesses
from .server import running_target
from .workers import Workers
from .workers import drive as drive_workers

TARGET_RATIO = 0.95


def wrk_requests_per_s(url: str, connections: int, duration_s: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", url],
        capture_output=True, text=True, timeout=duration_s + 30, check=True,
    ).stdout  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise InfrastructureError(f"cannot read wrk's output: {out.strip()[-200:]}")
    return float(match.group(1))


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def _drive(
    url: str,
    connections: int,
    duration_s: int,
    workers: int,
    children: ChildProcesses,
    rundir: Path,
) -> LoadResult:
    health = load_scenarios().get("health")
    if workers:
        return drive_workers(
            url, health, connections, duration_s, children, rundir, Workers(local=workers)
        )
    return drive(url, health, connections, duration_s, children, rundir)


def run(
    *, connections: int, duration_s: int, rounds: int, console: Console, workers: list[int]
) -> bool:
    """Locust in one process, and with each count of `workers`, against wrk."""
    if shutil.which("wrk") is None:
        raise InfrastructureError("wrk is not installed (Debian: apt-get install wrk)")
    setups = [0, *workers]
    wrk_rps: list[float] = []
    loads: dict[int, list[LoadResult]] = {n: [] for n in setups}
    with tempfile.TemporaryDirectory(prefix="sessionbench-") as tmp:
        workdir = Path(tmp)
        config = TargetConfig(
            strategy="async-session",
            database_url=f"sqlite+aiosqlite:///{workdir / 'unused.db'}",
            pool=POOLS.get("default"),
        )
        with ChildProcesses() as children, running_target(config, children, workdir) as target:
            wrk_rps.append(wrk_requests_per_s(f"{target.base_url}/health", connections, duration_s))
            for round_ in range(rounds):
                for n in setups:
                    rundir = workdir / f"locust-{round_}-{n}"
                    rundir.mkdir()
                    loads[n].append(
                        _drive(target.base_url, connections, duration_s, n, children, rundir)
                    )
                wrk_rps.append(
                    wrk_requests_per_s(f"{target.base_url}/health", connections, duration_s)
                )
    wrk = statistics.median(wrk_rps)
    console.print(
        f"GET /health, {connections} connections, {duration_s} s each: "
        f"wrk {wrk:,.0f} req/s (runs: {_runs(wrk_rps)})",
        highlight=False,
    )
    for n in setups:
        rps = [load.requests_per_s for load in loads[n]]
        # The busiest run's CPU per load-sending process, averaged over its lifetime.
        cpu = max(
            (load.worker_cpu_percent or [load.generator_cpu_percent] for load in loads[n]),
            key=max,
        )
        console.print(
            f"  Locust FastHttpUser, {f'{n} worker(s)' if n else 'one process'}: "
            f"{statistics.median(rps):,.0f} req/s (runs: {_runs(rps)}), "
            f"ratio {statistics.median(rps) / wrk:.2f} (target >= {TARGET_RATIO}); "
            f"CPU per process, busiest run: {', '.join(f'{c:.0f}' for c in cpu)} % of a core"
            + (" - saturated" if max(cpu) >= GENERATOR_SATURATION_PERCENT else ""),
            highlight=False,
        )
    return statistics.median(r.requests_per_s for r in loads[0]) / wrk >= TARGET_RATIO
