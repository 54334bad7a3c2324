"""From one test's reading to its failures: the rules `run` uses, on what happened
while the test's requests were served.

The test's window is its duration and its requests those the app saw.  Only what
requests did counts: a test's own code (a fixture's session, a sync query the test
makes to check the database) runs outside requests and is never blamed on the app.
"""

from dataclasses import dataclass

from sessionbench.bench.diagnosis import CellEvidence, findings_from
from sessionbench.bench.diagnosis.thresholds import Limits
from sessionbench.bench.sampler import StallLog
from sessionbench.reading import ProbeReading, Site
from sessionbench.results import Diagnostics, Finding

from .options import Options

# Finding kind -> the option that turns its check on or off.  Other findings (pool
# sizing, churn) need load to mean anything and are left to `sessionbench run`.
CHECKS = {
    "event-loop-blocking": "blocking",
    "connection-leak": "leaks",
    "session-leak": "leaks",
    "lost-write": "late_commits",
    "idle-in-transaction": "idle_transactions",
    "engine-per-request": "engine_per_request",
}


def _in_requests(sites: list[Site]) -> list[Site]:
    return [site for site in sites if site.route is not None]


def _count(sites: list[Site]) -> int:
    return sum(site.count for site in sites)


def requests_only(reading: ProbeReading) -> ProbeReading:
    """The reading with what happened outside requests left out."""
    pool, held = reading.pool, reading.loop.held
    alive = _in_requests(pool.sessions_alive_at)
    in_transaction = _in_requests(pool.sessions_in_transaction_at)
    checked_out = _in_requests(pool.checked_out_at)
    cleaned = _in_requests(pool.gc_cleaned_at)
    waiting = sum(ms for route, ms in held.app_waiting_routes.items() if route)
    return reading.model_copy(
        update={
            "stalls": [s for s in reading.stalls if s.route is not None],
            "loop": reading.loop.model_copy(
                update={"held": held.model_copy(update={"app_waiting_ms": waiting})}
            ),
            "pool": pool.model_copy(
                update={
                    "sessions_alive": _count(alive),
                    "sessions_alive_at": alive,
                    "sessions_in_transaction": _count(in_transaction),
                    "sessions_in_transaction_at": in_transaction,
                    "checked_out": _count(checked_out),
                    "checked_out_at": checked_out,
                    "gc_cleaned_connections": _count(cleaned),
                    "gc_cleaned_at": cleaned,
                }
            ),
        }
    )


@dataclass(frozen=True)
class Verdict:
    findings: list[Finding]
    requests: int

    def message(self) -> str:
        lines = []
        for finding in self.findings:
            lines.append(f"sessionbench: {finding.kind}: {finding.summary}")
            lines.extend(f"    {key}: {value}" for key, value in finding.evidence.items())
            lines.append(f"    why: {finding.explanation}")
            lines.append(f"    fix: {finding.hint}")
        return "\n".join(lines)


def judge(reading: ProbeReading, duration_s: float, options: Options) -> Verdict:
    view = requests_only(reading)
    log = StallLog()
    log.add(view)
    view.stalls = []
    evidence = CellEvidence(
        pool_settings=None,
        final=view,
        diagnostics=Diagnostics(final=view, stalls=log.stalls, stacks=log.stacks),
        window_s=max(duration_s, 1e-3),
        requests=view.requests.started,
        limits=Limits(
            blocking_stall_ms=options.blocking_ms,
            blocking_single_stall_ms=options.blocking_ms,
            # Within one test nothing legitimately keeps a request's session.
            leaked_sessions_min=options.leaked_sessions,
            leaked_sessions_share=0.0,
        ),
    )
    enabled = {kind for kind, option in CHECKS.items() if getattr(options, option)}
    findings = [f for f in findings_from(evidence) if f.kind in enabled]
    return Verdict(findings=findings, requests=view.requests.started)
