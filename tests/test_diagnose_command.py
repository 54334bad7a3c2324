"""`sessionbench diagnose`: the rules again on a saved run, findings and reports rewritten;
`report --output` into directories that do not exist yet."""

import json
import shutil
from pathlib import Path

from sessionbench.bench import diagnose_command, report_command
from sessionbench.bench.resultfile import load_result

GOLDEN = Path(__file__).parent / "golden"


def _saved_run(tmp_path: Path) -> Path:
    path = tmp_path / "run" / "results.json"
    path.parent.mkdir()
    shutil.copy(GOLDEN / "results-v2.json", path)  # an old format: upgraded on the way
    return path


def test_diagnose_applies_the_rules_to_the_saved_reading(tmp_path: Path) -> None:
    path = _saved_run(tmp_path)
    document = json.loads(path.read_text())
    # The saved reading of the first cell says connections were left checked out.
    document["cells"][0]["diagnostics"]["after_quiesce"]["checked_out"] = 3
    path.write_text(json.dumps(document))

    outcome = diagnose_command.run(results=path)

    first = load_result(path).cells[0]
    assert "connection-leak" in {f.kind for f in first.findings}
    assert first.config.id in outcome.changed[0]
    assert {p.name for p in outcome.reports} == {"report.html", "summary.md"}
    assert all(p.parent == path.parent and p.stat().st_size > 0 for p in outcome.reports)
    assert "connection-leak" in (path.parent / "summary.md").read_text()


def test_diagnose_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    path = _saved_run(tmp_path)
    diagnose_command.run(results=path)
    assert diagnose_command.run(results=path).changed == []


def test_report_output_creates_missing_directories(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "there.md"
    written = report_command.run(results=_saved_run(tmp_path), fmt="md", output=target)
    assert written == target and target.read_text().startswith("#")
