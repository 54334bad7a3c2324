"""`run --app` options and `[tool.sessionbench]`: bad input is one line and exit 2,
before anything starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from sessionbench.bench.config_file import load_project_settings, prefer_command_line
from sessionbench.bench.ownapp.cell import startup_error
from sessionbench.bench.ownapp.plan import check_locustfile
from sessionbench.bench.server import StartupFailed
from sessionbench.errors import UsageError

from .test_cli import assert_one_line

APPS = Path(__file__).parent / "apps"


def sessionbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionbench", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


APP = ["run", "--app", "notes:app", "--app-dir", str(APPS)]
BAD_OPTIONS = [
    (["run", "--app", "notes"], '--app \'notes\': use the form "module:attribute"'),
    ([*APP, "--metadata", "Base"], "--metadata 'Base': use the form"),
    (["run", "--app", "notes:app", "--app-dir", "/no/such/dir"], "--app-dir /no/such/dir: no such"),
    ([*APP, "--alembic-ini", "/no/alembic.ini"], "--alembic-ini /no/alembic.ini: no such file"),
    ([*APP, "--locustfile", "/no/locustfile.py"], "--locustfile /no/locustfile.py: no such file"),
    ([*APP, "--requests", "/no/requests.toml"], "--requests /no/requests.toml: no such file"),
    ([*APP, "--alembic-ini", __file__, "--metadata", "notes:Base"], "give one"),
    ([*APP, "--url-env", "DATABASE-URL"], "is not an environment variable name"),
    ([*APP, "--driver", "pg8000"], "unknown driver 'pg8000'"),
    ([*APP, "--database-url", "nonsense"], "malformed database URL"),
    ([*APP, "--database-url", "oracle://u:hunter2@h/x"], "unsupported database in URL"),
    ([*APP, "--database-url", "sqlite:///x.db", "--db", "sqlite"], "leave out --db"),
    ([*APP, "--strategy", "async-session"], "--strategy, --pool, --scenario"),
    ([*APP, "--startup-timeout", "forever"], "invalid duration"),
    ([*APP, "--locustfile", str(APPS / "broken" / "no_users.py")], "defines no User class"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS)
def test_bad_app_options_get_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    assert_one_line(sessionbench(*args, "--output", str(tmp_path / "out")), 2, message)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('app = "notes:app"\nuser = 3\n', "[tool.sessionbench]: unknown key 'user'"),
        ('users = "many"\n', "[tool.sessionbench]: 'users': Input should be a valid integer"),
        ('db = []\n', "[tool.sessionbench]: 'db': List should have at least 1 item"),
        ("target-workers = 0\n",
         "[tool.sessionbench]: 'target-workers': Input should be greater than or equal to 1"),
        ('probes = "sometimes"\n', "'probes': Input should be a valid boolean"),
    ],
)  # fmt: skip
def test_bad_pyproject_settings_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.sessionbench]\n" + table)
    with pytest.raises(UsageError) as info:
        load_project_settings(tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert_one_line(sessionbench("run", cwd=tmp_path), 2, message)


def test_pyproject_settings_apply_unless_the_command_line_says_otherwise(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.sessionbench]\napp = "shop.main:app"\n'
        'app-dir = "src"\nusers = 4\nduration = "5s"\ndb = ["postgres"]\n'
    )
    settings = load_project_settings(tmp_path)
    assert settings.app_dir == tmp_path / "src"  # relative to the pyproject
    merged = prefer_command_line(
        {"app": None, "users": 16, "duration": "8s", "db": None, "app_dir": None},
        {"users"},  # given on the command line
        settings,
    )
    assert merged == {
        "app": "shop.main:app", "users": 16, "duration": "5s", "db": ["postgres"],
        "app_dir": tmp_path / "src",
    }  # fmt: skip


def test_a_pyproject_without_the_table_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    assert load_project_settings(tmp_path).app is None


def test_a_failed_start_up_is_told_by_the_apps_own_exception(tmp_path: Path) -> None:
    log = tmp_path / "target.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "app.py", line 9, in lifespan\n'
        "    raise RuntimeError('cannot reach the cache')\n"
        "RuntimeError: cannot reach the cache\n\n"
        "ERROR:    Application startup failed. Exiting.\n"
    )
    message = startup_error(log, StartupFailed(3, "target exited during start-up"))
    assert message == "the app's start-up failed: RuntimeError: cannot reach the cache"
    log.write_text("Killed\n")
    assert startup_error(log, StartupFailed(-9, "target exited")) == "target exited"


def test_a_locustfile_with_a_user_class_passes_the_check(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(
        "from locust import FastHttpUser, task\n\n\n"
        "class Shopper(FastHttpUser):\n"
        "    @task\n"
        "    def browse(self) -> None:\n"
        '        self.client.get("/notes")\n'
    )
    check_locustfile(locustfile)  # no error
