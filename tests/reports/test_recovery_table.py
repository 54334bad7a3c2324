"""The recovery table (fault x pool variant) in every writer, from cells with a fault."""

from sessionbench.reports import html, markdown, terminal
from sessionbench.reports.recovery import recovery_rows
from sessionbench.reports.summary import summarise
from sessionbench.results import FaultResult, Finding, RunResult

STALE = Finding(
    kind="stale-connections", severity="error", summary="s", evidence={"stale_checkouts": 7},
    explanation="e", hint="h",
)  # fmt: skip


def _with_faults(run: RunResult) -> RunResult:
    """The golden run's two cells as one fault's default and pre-ping variants."""
    for cell, pool, recovered in zip(run.cells, ("default", "pre-ping"), (1.5, None), strict=True):
        assert cell.load is not None
        cell.config.scenario, cell.config.strategy = "fault-terminate-idle", "sync-threadpool"
        cell.config.pool = cell.config.pool.model_copy(update={"name": pool})
        cell.load.fault = FaultResult(
            kind="terminate", injected_at_s=2.5, hit_at_s=3.0, failed=8 if recovered else 0,
            time_to_recover_s=recovered,
        )  # fmt: skip
        cell.findings = [STALE] if pool == "default" else []
    return run


def test_rows_put_a_faults_pool_variants_side_by_side(run: RunResult) -> None:
    rows = recovery_rows(summarise(_with_faults(run)))
    assert [(r.pool, r.failed, r.stale, r.time_to_recover_s) for r in rows] == [
        ("default", "8", "7", "1.50"),
        ("pre-ping", "0", "0", "not recovered (1 of 1)"),
    ]


def test_every_writer_shows_the_recovery_table(run: RunResult) -> None:
    faulted = _with_faults(run)
    assert "### Recovery from faults" in markdown.render(faulted)
    assert "| fault-terminate-idle (terminate) | sync-threadpool |" in markdown.render(faulted)
    assert "<h3>Recovery from faults</h3>" in html.render(faulted)
    assert "recovery from faults" in terminal.render(faulted)


def test_no_table_without_a_fault(run: RunResult) -> None:
    assert recovery_rows(summarise(run)) == []
    assert "Recovery from faults" not in markdown.render(run)
