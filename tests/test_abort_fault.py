"""The abort fault as scenario data: parsed into the scenario, bad tables refused with a
line that names the scenario and the field, and listed with the targets it applies to."""

import tomllib
from pathlib import Path

import pytest

from sessionbench.scenarios.abort import Abort
from sessionbench.scenarios.catalogue import ScenarioFileError, load_scenarios, parse_scenario

from .test_cli import assert_one_line, sessionbench


def test_the_abort_scenario_carries_its_fault_to_the_load_generator() -> None:
    scenario = load_scenarios().get("abort")
    assert scenario.abort == Abort(share=0.25, after_ms=30)
    assert '"abort": {"share": 0.25, "after_ms": 30}' in scenario.to_env()["SESSIONBENCH_SCENARIO"]


def test_a_scenario_without_the_fault_has_none() -> None:
    assert load_scenarios().get("crud").abort is None
    assert '"abort": null' in load_scenarios().get("crud").to_env()["SESSIONBENCH_SCENARIO"]


@pytest.mark.parametrize(
    ("abort", "message"),
    [
        ("0.2", "'abort' must be a table with exactly 'share' and 'after_ms'"),
        ("{ share = 0.2 }", "'abort' must be a table with exactly 'share' and 'after_ms'"),
        ("{ share = 0.2, after_ms = 30, at = 1 }", "exactly 'share' and 'after_ms'"),
        ("{ share = 0, after_ms = 30 }", "'abort.share' must be a fraction"),
        ("{ share = 1.5, after_ms = 30 }", "'abort.share' must be a fraction"),
        ("{ share = true, after_ms = 30 }", "'abort.share' must be a fraction"),
        ('{ share = 0.2, after_ms = "30" }', "'abort.after_ms' must be a positive integer"),
        ("{ share = 0.2, after_ms = 0 }", "'abort.after_ms' must be a positive integer"),
    ],
)
def test_a_bad_abort_table_names_the_scenario_and_the_field(abort: str, message: str) -> None:
    table = tomllib.loads(f"[quit]\ntasks = {{ read = 1 }}\nabort = {abort}\n")["quit"]
    with pytest.raises(ScenarioFileError, match="scenario 'quit'") as info:
        parse_scenario("quit", table)
    assert message in str(info.value)


def test_a_bad_abort_in_a_scenario_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "quit.toml"
    path.write_text("[quit]\ntasks = { read = 1 }\nabort = { share = 2, after_ms = 30 }\n")
    result = sessionbench("run", "--scenario-file", str(path), "--scenario", "quit")
    assert_one_line(result, 2, "scenario 'quit': 'abort.share' must be a fraction")


def test_list_names_the_fault_scenario_and_its_targets() -> None:
    result = sessionbench("list")
    assert result.returncode == 0
    for name in ("abort", "export-finally-close", "export-async-with"):
        assert name in result.stdout
