"""The abort fault's truth table: clients hang up on a quarter of the GET /export
streams; the target that closes its session in `finally:` gets `cancelled-close`, its
twin that closes with `async with` gets nothing, on Postgres (asyncpg) and on MariaDB
(aiomysql).  Aborted requests are counted apart, never as failures."""

from pathlib import Path

import pytest

from sessionbench.results import CellResult

from .conftest import run_cells

pytestmark = pytest.mark.integration

BAD, TWIN = "export-finally-close", "export-async-with"
DURATION_S = 4


def _diagnoses(cell: CellResult) -> set[str]:
    return {f.kind for f in cell.findings if f.severity != "info"}


def _check(cells: list[CellResult]) -> None:
    bad, twin = cells
    assert (bad.config.strategy, twin.config.strategy) == (BAD, TWIN)
    for cell in cells:
        assert cell.status == "ok", cell.error
        assert cell.load is not None and cell.diagnostics and cell.diagnostics.final
        aborted = sum(a.occurrences for a in cell.load.aborted)
        assert aborted > 0 and {a.name for a in cell.load.aborted} <= {"/export", "/items/{id}"}
        # An abandoned request is not the app's failure (the client's timer is not an error).
        client_side = ("Timeout", "RetriesExceeded")
        assert not [f for f in cell.load.failures_by_kind if f.error.startswith(client_side)]
    assert _diagnoses(bad) == {"cancelled-close"}, [f.summary for f in bad.findings]
    assert _diagnoses(twin) == set(), [f.summary for f in twin.findings]
    finding = next(f for f in bad.findings if f.kind == "cancelled-close")
    assert "stream_export.py" in str(finding.evidence["closed_at"])
    assert "in export_finally_close" in str(finding.evidence["closed_at"])
    assert twin.diagnostics and twin.diagnostics.final
    assert twin.diagnostics.final.pool.cancelled_closes == 0


@pytest.mark.postgres
def test_abort_truth_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    result = run_cells(
        tmp_path, [BAD, TWIN], "postgres", "abort", postgres_url=postgres_url,
        duration_s=DURATION_S,
    )  # fmt: skip
    _check(result.cells)


@pytest.mark.mysql
def test_abort_truth_on_mariadb(tmp_path: Path, mysql_url: str) -> None:
    result = run_cells(
        tmp_path, [BAD, TWIN], "mysql", "abort", mysql_url=mysql_url, duration_s=DURATION_S
    )
    _check(result.cells)
