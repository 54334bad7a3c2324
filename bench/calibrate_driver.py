"""Is the load generator the bottleneck?  Locust's `FastHttpUser` against `wrk`.

Both drive `GET /health` of the same running target at the same connection count, in
one run, alternating wrk / Locust / wrk so that drift of the machine falls on both.
The figure is Locust's requests/s over wrk's (target: >= 0.95); Locust's own CPU use
is printed beside it, since a generator at a full core measures itself.
"""

import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console

from sessionbench.errors import InfrastructureError
from sessionbench.scenarios.catalogue import load_scenarios
from sessionbench.targets.config import TargetConfig
from sessionbench.targets.pools import POOLS

from .loadgen import drive
from .processes import ChildProcesses
from .server import running_target

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


def run(*, connections: int, duration_s: int, rounds: int, console: Console) -> bool:
    if shutil.which("wrk") is None:
        raise InfrastructureError("wrk is not installed (Debian: apt-get install wrk)")
    health = load_scenarios().get("health")
    wrk_rps, locust_rps, locust_cpu = [], [], []
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
                rundir = workdir / f"locust-{round_}"
                rundir.mkdir()
                load = drive(target.base_url, health, connections, duration_s, children, rundir)
                locust_rps.append(load.requests_per_s)
                locust_cpu.append(load.generator_cpu_percent)
                wrk_rps.append(
                    wrk_requests_per_s(f"{target.base_url}/health", connections, duration_s)
                )
    ratio = statistics.median(locust_rps) / statistics.median(wrk_rps)
    console.print(
        f"GET /health, {connections} connections, {duration_s} s each: "
        f"wrk {statistics.median(wrk_rps):,.0f} req/s (runs: {_runs(wrk_rps)}), "
        f"Locust FastHttpUser {statistics.median(locust_rps):,.0f} req/s "
        f"(runs: {_runs(locust_rps)}), "
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO}); Locust CPU "
        f"{max(locust_cpu):.0f} % of a core"
        + (" - the load generator's CPU is saturated" if max(locust_cpu) >= 90 else "")
    )
    return ratio >= TARGET_RATIO
