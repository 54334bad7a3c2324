"""Errors the CLI turns into one line on stderr and an exit code."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a cell failed or a check did not pass
    USAGE = 2  # bad options, names, files or URLs
    INFRASTRUCTURE = 3  # a database, port or tool the run needs is not available


class SessionbenchError(Exception):
    exit_code = ExitCode.USAGE


class UsageError(SessionbenchError):
    exit_code = ExitCode.USAGE


class InfrastructureError(SessionbenchError):
    exit_code = ExitCode.INFRASTRUCTURE


class CellError(Exception):
    """One cell could not be measured; the run records it and goes on."""


class CellSkipped(Exception):
    """One cell cannot run in its environment (a version set lacks what the target needs,
    or the set could not be built): recorded with this reason, and the run goes on."""
