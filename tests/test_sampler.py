"""The target's CPU over the load, read from its process tree."""

import subprocess
import sys
import time

from sessionbench.bench.sampler import process_tree_cpu_s

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_the_cpu_of_a_process_and_its_children_is_counted() -> None:
    # A parent that only waits for a child that burns 0.3 s of CPU: the tree has it.
    parent = subprocess.Popen(
        [sys.executable, "-c",
         f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"
         "; import time; time.sleep(5)"],
    )  # fmt: skip
    try:
        before = process_tree_cpu_s(parent.pid)
        assert before is not None
        time.sleep(0.2)  # the child is burning now
        during = process_tree_cpu_s(parent.pid)
        assert during is not None and during > before
    finally:
        parent.kill()
        parent.wait()


def test_a_process_that_is_gone_has_no_reading() -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert process_tree_cpu_s(ended.pid) is None
