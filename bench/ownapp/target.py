"""A user's app as the harness sees it: how to start it, hand it a database, build its
schema and load it.  Built once from the command line and the pyproject settings."""

from dataclasses import dataclass
from pathlib import Path

from sessionbench.scenarios.mix import Mix

from .spec import AppSpec

DEFAULT_URL_ENV = "DATABASE_URL"


@dataclass(frozen=True)
class AppTarget:
    spec: AppSpec
    name: str  # the app's name in results, reports and the gate (as a strategy's)
    url_env: str = DEFAULT_URL_ENV
    alembic_ini: Path | None = None
    metadata: str | None = None  # MODULE:ATTR of a MetaData for create_all
    locustfile: Path | None = None
    requests: Mix | None = None  # the user's requests file, validated
    startup_timeout_s: float = 30.0
    # Remote mode: an app already running there is driven and measured, never started.
    remote_url: str | None = None
    remote_application_name: str | None = None  # its connections' name, for the server's view

    @property
    def schema_from(self) -> str:
        if self.remote_url is not None:
            return "the app (running elsewhere)"
        if self.alembic_ini is not None:
            return f"alembic {self.alembic_ini}"
        if self.metadata is not None:
            return f"metadata {self.metadata}"
        return "the app"

    @property
    def load_label(self) -> str:
        """The cell's scenario name."""
        if self.locustfile is not None:
            return "locustfile"
        if self.requests is not None:
            return "requests"
        return "openapi"
