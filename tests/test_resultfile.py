"""results.json across schema versions: golden files per version, refusals in one line."""

import json
from pathlib import Path

import pytest

from sessionbench.bench.resultfile import ResultFileError, load_result
from sessionbench.results import SCHEMA_VERSION

GOLDEN = Path(__file__).parent / "golden"


def test_every_schema_version_has_a_golden_file() -> None:
    versions = {int(p.stem.removeprefix("results-v")) for p in GOLDEN.glob("results-v*.json")}
    assert versions == set(range(1, SCHEMA_VERSION + 1))


def test_current_golden_file_round_trips_unchanged() -> None:
    # Fails when the models change without a new schema version and golden file.
    path = GOLDEN / f"results-v{SCHEMA_VERSION}.json"
    loaded = load_result(path)
    assert json.loads(loaded.model_dump_json()) == json.loads(path.read_text())


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_old_versions_upgrade_to_the_current_one(version: int) -> None:
    old = load_result(GOLDEN / f"results-v{version}.json")
    current = load_result(GOLDEN / f"results-v{SCHEMA_VERSION}.json")
    assert old.schema_version == SCHEMA_VERSION
    assert old.model_dump() == current.model_dump()


def test_v1_cells_become_first_repeats_without_added_delay() -> None:
    result = load_result(GOLDEN / "results-v1.json")
    assert [cell.repeat for cell in result.cells] == [0, 0]
    assert all(cell.config.added_delay_ms == 0 for cell in result.cells)
    assert result.micro == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "results.json"
    path.write_text(text)
    return path


def test_newer_version_is_refused_with_one_line(tmp_path: Path) -> None:
    document = json.loads((GOLDEN / f"results-v{SCHEMA_VERSION}.json").read_text())
    document["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ResultFileError, match="newer than this sessionbench reads") as info:
        load_result(_write(tmp_path, json.dumps(document)))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema_version": 2, "cells": [', "not valid JSON"),
        ("[1, 2]", "not a sessionbench results file"),
        ('{"cells": []}', "no valid schema_version"),
        ('{"schema_version": 2, "cells": []}', "started_at: Field required"),
    ],
)
def test_corrupt_files_fail_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ResultFileError, match=message) as info:
        load_result(_write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ResultFileError, match=r"cannot read .*nowhere\.json"):
        load_result(tmp_path / "nowhere.json")


def test_a_v3_file_without_the_own_app_fields_loads_with_their_defaults(tmp_path: Path) -> None:
    data = json.loads((GOLDEN / "results-v3.json").read_text())
    for cell in data["cells"]:
        del cell["config"]["app"], cell["load"]["client_errors"]
        del cell["diagnostics"]["app_errors"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    cells = load_result(path).cells
    assert all(c.config.app is None and c.load and c.load.client_errors == [] for c in cells)
    assert all(c.diagnostics and c.diagnostics.app_errors == [] for c in cells)
