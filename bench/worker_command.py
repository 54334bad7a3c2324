"""`sessionbench worker --master HOST:PORT`: a Locust worker, joining a run from another machine.

The run (`run --remote-workers M --master-bind HOST:PORT`) starts one Locust master per
cell; the worker runs sessionbench's locustfile with the run's scenario, sends the load
the master gives it, and joins again for the next cell, until no master answers within
Locust's connect timeout (the run is over) or it is interrupted.  The targets listen on
127.0.0.1 of the machine running them, so the load a worker sends goes to its own
machine's loopback: a worker elsewhere needs the target reachable at the run's host.
"""

import shutil

from rich.console import Console

from sessionbench.errors import ExitCode
from sessionbench.scenarios.catalogue import Scenario

from .leftovers import owned_temp_dir
from .processes import ChildProcesses, tail
from .workers import parse_master, worker_argv


def run(*, master: str, scenario: Scenario, console: Console) -> ExitCode:
    host, port = parse_master(master)
    workdir = owned_temp_dir()
    log, cells = workdir / "locust-worker.log", 0
    try:
        with ChildProcesses() as children:
            while True:
                proc = children.spawn(
                    worker_argv(host, port), log_path=log, env=scenario.to_env(), cwd=workdir
                )
                proc.wait()  # until the master ends the cell's load
                if children.stop(proc) != 0:
                    break
                cells += 1
                console.print(f"worker: load sent for cell {cells}", highlight=False)
        if cells == 0:
            console.print(f"worker: could not join {master}: {tail(log, 2)}", highlight=False)
            return ExitCode.INFRASTRUCTURE
        return ExitCode.OK
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
