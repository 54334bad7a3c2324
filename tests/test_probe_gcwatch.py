"""The GC pause record is read on the loop's thread while collections, run by any
thread, append to it."""

import sys
import threading
import time

from sessionbench.targets.probes.gcwatch import GcWatch


def test_pauses_are_summed_while_other_threads_collect() -> None:
    watch = GcWatch()
    stop = threading.Event()

    def collections_elsewhere() -> None:
        while not stop.is_set():
            watch._callback("start", {})
            watch._callback("stop", {"generation": 0})

    other = threading.Thread(target=collections_elsewhere)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as it can be
    other.start()
    try:
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            assert watch.time_in_gc(0.0, time.perf_counter()) >= 0.0
    finally:
        stop.set()
        other.join()
        sys.setswitchinterval(interval)
    assert watch.collections > 0
