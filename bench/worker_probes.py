"""The probes of a target under several worker processes (`run --target-workers N`).

A request to the target's port reaches any one worker, so each worker's probes are read
on the port it alone listens on (`targets/worker_serve.py`), by a `ProbeClient` of its
own (incremental stalls, the final reading after a full GC, as for one process).  The
readings are summed into the cell's reading and kept per worker; each stall is tagged
with the pid of the worker whose loop it held.
"""

import psutil

from sessionbench.reading import ProbeReading
from sessionbench.reading_sum import sum_readings
from sessionbench.results import WorkerReading

from .sampler import ProbeClient, ProbeSource, ServerView, StallLog
from .server import RunningTarget, TargetWorker


class WorkerProbes:
    def __init__(self, workers: tuple[TargetWorker, ...]) -> None:
        self.clients = [(worker.pid, ProbeClient(worker.base_url)) for worker in workers]
        self.finals: list[WorkerReading] = []  # each worker's final reading

    def read(self, final: bool = False) -> ProbeReading | None:
        """The workers' readings summed; None when any one did not answer (a sum
        without it would read as a drop)."""
        readings = []
        for _, client in self.clients:
            reading = client.read(final)
            if reading is None:
                return None
            readings.append(reading)
        if final:
            self.finals = [
                WorkerReading(pid=pid, reading=r.model_copy(update={"stalls": []}))
                for (pid, _), r in zip(self.clients, readings, strict=True)
            ]
        return sum_readings(readings)

    @property
    def stall_log(self) -> StallLog:
        merged = StallLog()
        for pid, client in self.clients:
            merged.absorb(client.stall_log, worker=pid)
        return merged

    def count_server_connections(self, server: ServerView) -> None:
        """Each worker's connections in the server's view: the client ports the server
        lists, matched to the sockets each worker holds."""
        ports = set(server.client_ports())
        if not ports:
            return
        for worker in self.finals:
            try:
                own = {c.laddr.port for c in psutil.Process(worker.pid).net_connections("tcp")}
            except psutil.Error:
                continue
            worker.server_connections = len(own & ports)

    def close(self) -> None:
        for _, client in self.clients:
            client.close()


def probe_source(running: RunningTarget) -> ProbeSource:
    """One process's probes, or several workers' read one by one and summed."""
    return WorkerProbes(running.workers) if running.workers else ProbeClient(running.base_url)


def worker_readings(probes: ProbeSource, server: ServerView) -> list[WorkerReading]:
    """Each worker's final reading and server connections; [] for one process."""
    if not isinstance(probes, WorkerProbes):
        return []
    probes.count_server_connections(server)
    return probes.finals
