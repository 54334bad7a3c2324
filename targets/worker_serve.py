"""One of a target's worker processes: `python -m sessionbench.targets.worker_serve`.

`run --target-workers N` starts this N times, each process a direct child of the
harness: tracked, stopped by PID and given the parent-death signal, so none outlives
a harness killed by SIGKILL.  uvicorn's own `--workers` would put a supervisor in
between, whose children the kernel would not stop with the harness.

Every process binds the target's port with SO_REUSEPORT, so the kernel spreads the
load's connections over them as uvicorn's workers would share them, and a loopback
port of its own, on which the harness reads this process's probes: a request to the
shared port reaches any one worker.
"""

import argparse
import socket
import sys

import uvicorn


def bind(port: int, shared: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("factory", help="MODULE:ATTR of the app factory")
    parser.add_argument("--app-dir", default=".")
    parser.add_argument("--port", type=int, required=True, help="shared by every worker")
    parser.add_argument("--own-port", type=int, required=True, help="this worker's alone")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.app_dir)  # as uvicorn's --app-dir does
    sockets = [bind(args.port, shared=True), bind(args.own_port, shared=False)]
    config = uvicorn.Config(
        args.factory,
        factory=True,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
