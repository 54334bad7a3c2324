"""Recovery from a fault, computed from a synthetic timeline of answers."""

from sessionbench.bench.recovery import RECOVERED_SHARE, Injection, recovery
from sessionbench.scenarios.faults import Fault

BIN_S = 0.25
TERMINATE = Fault("terminate", at=0.4)


def timeline(ok: list[int], failed: list[tuple[float, float, str]]) -> dict[str, object]:
    return {
        "window_start_clock": 100.0,
        "bin_s": BIN_S,
        "ok_per_bin": {str(i): n for i, n in enumerate(ok)},
        "failed": failed,
    }


def test_recovered_from_the_first_second_back_at_half_the_normal_rate() -> None:
    # 20 answers a bin before the fault at 2.0 s; two bins of nothing, one bin at 9 (under
    # half), then normal again from 2.75 s.
    ok = [5, 20, 20, 20, 20, 20, 20, 20, 0, 0, 9, 20, 20, 20, 20, 20, 20, 20, 20, 20]
    failed = [(1.99, 2.01, "terminating connection due to administrator command")] * 3 + [
        (2.3, 2.6, "connection refused")
    ]
    result = recovery(
        timeline(ok, failed), TERMINATE,
        Injection(injected_at_s=2.0, hit_at_s=2.0, took_s=0.02, affected=5), window_s=5.0,
    )  # fmt: skip
    assert result.baseline_per_s == 80.0  # median of 20 a bin, per second
    assert result.recovered_at_s == 2.75
    assert result.time_to_recover_s == 0.75
    assert result.failed == 4
    assert result.dead_from_s == 2.02  # the terminate returned
    assert result.failed_per_bin[8] == 3 and result.failed_per_bin[10] == 1


def test_a_bin_just_under_half_the_rate_is_not_recovered() -> None:
    floor = int(20 * RECOVERED_SHARE)
    ok = [20] * 8 + [floor - 1] * 12
    result = recovery(timeline(ok, []), TERMINATE, Injection(2.0, 2.0), window_s=5.0)
    assert result.recovered_at_s is None and result.time_to_recover_s is None
    ok_at_half = [20] * 8 + [floor] * 12
    result = recovery(timeline(ok_at_half, []), TERMINATE, Injection(2.0, 2.0), window_s=5.0)
    assert result.time_to_recover_s == 0.0


def test_recovered_at_once_is_no_time_at_all() -> None:
    result = recovery(timeline([20] * 20, []), TERMINATE, Injection(2.0003, 2.0003), 5.0)
    assert result.time_to_recover_s == 0.0 and str(result.time_to_recover_s) == "0.0"


def test_a_failure_inside_the_recovery_window_delays_recovery() -> None:
    ok = [20] * 20
    failed = [(2.0, 2.1, "x"), (2.9, 3.1, "lost connection to MySQL server")]
    result = recovery(timeline(ok, failed), TERMINATE, Injection(2.0, 2.0), window_s=5.0)
    assert result.recovered_at_s == 3.25  # the bin after the last failure
    assert result.failed == 2


def test_the_baseline_is_taken_before_the_clients_pause() -> None:
    # Clients pause from 1.5 s to 3.0 s (no answers): the baseline is the bins before it.
    paused = Fault("terminate", at=0.3, pause_s=1.5)
    ok = [20] * 6 + [0] * 6 + [20] * 8
    failed = [(3.0, 3.02, "server closed the connection unexpectedly")] * 8
    result = recovery(timeline(ok, failed), paused, Injection(2.25, 3.0, 0.01), window_s=5.0)
    assert result.baseline_per_s == 80.0
    assert result.dead_from_s == 2.26  # terminated idle in the pool, mid-pause
    assert result.time_to_recover_s == 0.25 and result.failed == 8


def test_idle_connections_are_dead_once_the_timeout_ran_out_in_the_pause() -> None:
    idle = Fault("idle-timeout", at=0.3, idle_timeout_s=1.0, pause_s=2.0)
    result = recovery(timeline([20] * 20, []), idle, Injection(1.5, 3.5), window_s=5.0)
    assert result.dead_from_s == 2.5


def test_a_fault_not_injected_reports_why() -> None:
    result = recovery(timeline([20] * 20, []), TERMINATE, Injection(note="not injected: x"), 5.0)
    assert result.injected_at_s is None and result.dead_from_s is None
    assert result.note == "not injected: x"
    assert recovery(None, TERMINATE, Injection(2.0, 2.0), 5.0).note.startswith("no timeline")
