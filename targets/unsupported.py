"""A target that cannot be what it says under the installed packages.

Raised while the app is built (a version set lacks a feature the strategy relies on);
the app factory turns it into exit code `EXIT_CODE` with the reason as its last line,
and the harness records the cell as skipped with that reason instead of as a failure.
"""

EXIT_CODE = 78  # EX_CONFIG (sysexits.h): the environment cannot run this configuration


class UnsupportedVersion(Exception):
    """The reason, in one line, naming the package version that lacks what is needed."""
