"""The cancelled-close rule on synthetic evidence: a close cut short fires it, the
cancellations any app sees (in a query) do not, and it absorbs what follows from it."""

from dataclasses import replace

from sessionbench.bench.diagnosis import findings_from
from sessionbench.bench.diagnosis import thresholds as t
from sessionbench.bench.diagnosis.rules import cancelled_close
from sessionbench.reading import PoolReading, Site

from .test_rules import evidence

LINE = "targets/stream_export.py:66 in export_finally_close"


def cut_short(n: int, **pool: int) -> PoolReading:
    return PoolReading(
        cancelled_closes=n,
        cancelled_closes_at=[Site(route="GET /export", location=LINE, count=n)] if n else [],
        invalidations=pool.pop("invalidations", n),
        **pool,
    )


def test_one_close_cut_short_is_the_mistake() -> None:
    e = replace(evidence(pool=cut_short(t.CANCELLED_CLOSES_MIN)), aborted=12)
    finding = cancelled_close(e)
    assert finding is not None and finding.kind == "cancelled-close"
    assert finding.evidence["closed_at"] == f"GET /export at {LINE}"
    assert finding.evidence["aborted_requests"] == 12
    assert "1 session closes cancelled" in finding.summary and LINE in finding.summary
    assert finding.decided is not None and finding.decided.figure == "cancelled_closes"


def test_cancellations_that_land_in_queries_are_not_the_apps_mistake() -> None:
    # The healthy twin under the fault: 8 queries cancelled mid-statement, each
    # connection invalidated, no close cut short.
    e = replace(evidence(pool=cut_short(0, invalidations=8)), aborted=76)
    assert cancelled_close(e) is None
    assert "cancelled-close" not in {f.kind for f in findings_from(e)}


def test_the_sessions_it_leaves_and_the_new_connections_are_its_evidence() -> None:
    # What the known-bad target measured: each cut-short session collected still inside
    # the transaction the ORM never ended, and a new connection for each.
    pool = cut_short(60, gc_cleaned_connections=60, connections_opened=240)
    e = replace(evidence(pool=pool, requests=600, failures=2), aborted=66)
    kinds = {f.kind: f for f in findings_from(e)}
    assert "cancelled-close" in kinds
    assert not {"connection-leak", "connection-churn", "failed-requests"} & kinds.keys()
    also = kinds["cancelled-close"].evidence
    assert "also: connection-leak" in also and "also: connection-churn" in also
