"""The pytest plugin, registered through the `pytest11` entry point and inactive until
asked: `pytest --sessionbench` watches every test, `@pytest.mark.sessionbench(...)` one
test (or a module, through `pytestmark`), `[tool.sessionbench.pytest]` in pyproject.toml
sets the defaults.

Tests that do not ask run through pytest's own protocol untouched; nothing heavier than
the option parser is imported until a watched test starts.  A watched test runs its
setup, call and teardown under the probes; the checks read what is left after its
teardown (so a fixture that closes its session is not a leak), and a test with a
finding fails in its call phase with the evidence, the route and the app's line.
"""

from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from .options import OptionError, Options, from_pyproject, merged

MARKER = "sessionbench"
_DEFAULTS = pytest.StashKey[Options]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("sessionbench").addoption(
        "--sessionbench",
        action="store_true",
        default=False,
        help="watch every test with sessionbench's probes: fail tests whose app blocks its "
        "event loop, leaks sessions or connections, commits after its response, leaves a "
        "transaction open or builds an engine per request",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): watch this test with sessionbench's probes "
        "(options: blocking, blocking_ms, leaks, leaked_sessions, late_commits, "
        "idle_transactions, engine_per_request, enabled)",
    )


def _defaults(config: pytest.Config) -> Options:
    if _DEFAULTS not in config.stash:
        try:
            config.stash[_DEFAULTS] = from_pyproject(Path(config.rootpath))
        except OptionError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[_DEFAULTS]


def options_for(item: pytest.Item) -> Options | None:
    """The test's options, or None when it is not watched."""
    markers = list(item.iter_markers(MARKER))
    if not markers and not item.config.getoption("sessionbench"):
        return None
    options = _defaults(item.config)
    for marker in reversed(markers):  # the closest marker (the test's own) last
        if marker.args:
            raise pytest.UsageError(
                f"sessionbench: {item.nodeid}: the marker takes keywords only, "
                "e.g. @pytest.mark.sessionbench(blocking_ms=100)"
            )
        try:
            options = merged(options, marker.kwargs, f"the marker of {item.nodeid}")
        except OptionError as exc:
            raise pytest.UsageError(str(exc)) from None
    return options if options.enabled else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # bad options fail at once, in one line, not test by test
        options_for(item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    options = options_for(item)
    if options is None:
        return None
    from .verdict import judge  # the probes and rules: only once a test asks for them
    from .watch import TestWatch

    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    watch = TestWatch()
    watch.start()
    try:
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    finally:
        reading, duration_s = watch.stop()
    verdict = judge(reading, duration_s, options)
    if verdict.findings:
        _fail(reports, verdict.message())
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _fail(reports: list[Any], message: str) -> None:
    """The call fails with the findings (beside its own error, if it failed already)."""
    call = next((r for r in reports if r.when == "call"), None)
    if call is None:  # setup failed: the test never ran, nothing to judge it on
        return
    if call.passed:
        call.outcome = "failed"
        call.longrepr = message
    else:
        call.sections.append(("sessionbench", message))
