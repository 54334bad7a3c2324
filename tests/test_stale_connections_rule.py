"""The stale-connections rule on synthetic evidence: it fires on a request handed a
dead connection, not on requests caught mid-query by the fault, and it absorbs the
failed requests it explains."""

from dataclasses import replace

from sessionbench.bench.diagnosis import findings_from
from sessionbench.bench.diagnosis import thresholds as t
from sessionbench.bench.diagnosis.stale_connections import stale_connections
from sessionbench.results import FailureKind, FaultFailure, FaultResult
from sessionbench.targets.config import PoolSettings

from .test_rules import evidence

ADMIN = "HTTP 500: OperationalError: terminating connection due to administrator command"
DEAD_FROM_S = 2.02


def terminated(*starts: float, error: str = ADMIN) -> FaultResult:
    return FaultResult(
        kind="terminate", injected_at_s=2.0, hit_at_s=2.0, took_s=0.02, dead_from_s=DEAD_FROM_S,
        failed=len(starts),
        failures=[FaultFailure(start_s=s, end_s=s + 0.01, error=error) for s in starts],
    )  # fmt: skip


def test_fires_on_a_request_begun_after_the_connections_were_closed() -> None:
    began = DEAD_FROM_S + t.STALE_GRACE_S + 0.01
    e = evidence(failures=3)
    assert e.pool_settings is not None and not e.pool_settings.pool_pre_ping
    finding = stale_connections(replace(e, fault=terminated(1.99, 2.0, began)))
    assert finding is not None and finding.decided is not None
    assert finding.evidence["stale_checkouts"] == 1  # the two mid-query losses are not counted
    assert finding.evidence["error"] == f"1 x {ADMIN}"
    assert finding.evidence["pool_pre_ping"] == "False"


def test_near_miss_requests_begun_within_the_grace_or_other_errors() -> None:
    inside_grace = DEAD_FROM_S + t.STALE_GRACE_S - 0.01
    e = evidence(failures=2)
    assert stale_connections(replace(e, fault=terminated(1.99, inside_grace))) is None
    refused = terminated(3.0, error="HTTP 500: OperationalError: connection refused")
    assert stale_connections(replace(e, fault=refused)) is None  # the server was down


def test_a_fault_not_injected_proves_nothing() -> None:
    fault = terminated(3.0).model_copy(update={"injected_at_s": None, "dead_from_s": None})
    assert stale_connections(replace(evidence(failures=1), fault=fault)) is None


def test_without_a_fault_lost_connections_count_on_a_pool_that_never_pings() -> None:
    lost = [FailureKind(method="GET", name="/x", error="Lost connection to MySQL server during "
                        "query", occurrences=4)]  # fmt: skip
    e = replace(evidence(failures=4), failures_by_kind=lost)
    finding = stale_connections(e)
    assert finding is not None and finding.evidence["stale_checkouts"] == 4
    pinged = PoolSettings(name="pre-ping", pool_pre_ping=True)
    assert stale_connections(replace(e, pool_settings=pinged)) is None


def test_stale_connections_absorb_the_failed_requests() -> None:
    e = replace(evidence(failures=3), fault=terminated(2.5, 2.6, 2.7))
    kinds = [f.kind for f in findings_from(e)]
    assert kinds == ["stale-connections"]
    finding = findings_from(e)[0]
    assert "also: failed-requests" in finding.evidence
