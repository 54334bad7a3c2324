"""Faults as scenario data: parsing, listing, and refusals of faults a database cannot take."""

from pathlib import Path

import pytest

from sessionbench.scenarios.catalogue import ScenarioFileError, load_scenarios, parse_scenario
from sessionbench.scenarios.faults import Fault

from .test_cli import assert_one_line, sessionbench

TASKS = {"read": 1}


def test_the_catalogue_has_each_server_side_fault() -> None:
    kinds = {s.name: s.fault.kind for s in load_scenarios() if s.fault is not None}
    assert kinds == {
        "fault-terminate": "terminate",
        "fault-terminate-idle": "terminate",
        "fault-restart": "restart",
        "fault-idle": "idle-timeout",
    }


def test_a_fault_is_parsed_with_its_own_settings() -> None:
    scenario = parse_scenario(
        "x",
        {"tasks": TASKS, "fault": {"kind": "idle-timeout", "at": 0.3, "idle_timeout_s": 1,
                                   "pause_s": 2.5}},
    )  # fmt: skip
    assert scenario.fault == Fault("idle-timeout", 0.3, idle_timeout_s=1.0, pause_s=2.5)
    assert scenario.fault.inject_after_s == 0  # set before the target connects
    paused = parse_scenario("y", {"tasks": TASKS, "fault": {"kind": "terminate", "at": 0.5,
                                                            "pause_s": 2}})  # fmt: skip
    assert paused.fault is not None and paused.fault.inject_after_s == 1.0  # mid-pause
    assert parse_scenario("z", {"tasks": TASKS}).fault is None


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"kind": "meteor", "at": 0.5}, "'kind' must be one of terminate, restart, idle-timeout"),
        ({"kind": "terminate", "at": 1.0}, "'at' must be a fraction of the run"),
        ({"kind": "terminate", "at": True}, "'at' must be a fraction of the run"),
        ({"kind": "restart"}, "'at' must be a fraction of the run"),
        ({"kind": "terminate", "at": 0.5, "idle_timeout_s": 1}, "unknown key(s) idle_timeout_s"),
        ({"kind": "idle-timeout", "at": 0.5, "pause_s": 2}, "'idle_timeout_s' must be positive"),
        (
            {"kind": "idle-timeout", "at": 0.5, "idle_timeout_s": 2, "pause_s": 2},
            "'pause_s' (2) must exceed 'idle_timeout_s' (2)",
        ),
        ("terminate", "fault must be a table"),
    ],
)
def test_a_bad_fault_names_its_scenario(fault: object, message: str) -> None:
    with pytest.raises(ScenarioFileError) as info:
        parse_scenario("mine", {"tasks": TASKS, "fault": fault})
    assert str(info.value).startswith("scenario 'mine': fault")
    assert message.replace("must be positive", "must be a positive number") in str(info.value)


def test_list_names_the_faults() -> None:
    result = sessionbench("list")
    assert result.returncode == 0
    assert "fault-terminate-idle" in result.stdout
    assert "idle-timeout 1 s at 30% of the run during a 2 s pause of the clients" in " ".join(
        result.stdout.split()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "fault-terminate"], "fault terminate needs a database server; sqlite"),
        (["--db", "mysql", "--scenario", "fault-idle"], "MySQL/MariaDB set wait_timeout"),
        (
            ["--db", "postgres", "--scenario", "fault-restart", "--rate", "50"],
            "faults run in the closed model in one Locust process",
        ),
    ],
)
def test_a_fault_the_database_cannot_take_is_refused_in_one_line(
    args: list[str], message: str
) -> None:
    assert_one_line(sessionbench("run", "-s", "async-session", *args), 2, message)


def test_a_bad_fault_in_a_scenario_file_is_refused_in_one_line(tmp_path: Path) -> None:
    extra = tmp_path / "faults.toml"
    extra.write_text('[mine]\ntasks = { read = 1 }\nfault = { kind = "terminate", at = 2 }\n')
    result = sessionbench("run", "--scenario-file", str(extra), "--scenario", "mine")
    assert_one_line(result, 2, "scenario 'mine': fault: 'at' must be a fraction of the run")
