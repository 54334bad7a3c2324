"""What every provisioned database offers the runner."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import URL

from sessionbench.errors import InfrastructureError


class DatabaseUnavailable(InfrastructureError):
    """No provider could supply this database; the message says why for each."""


class DatabaseServer(Protocol):
    backend: str  # SQLAlchemy backend name: "sqlite", "postgresql"
    description: str  # where it came from, for the run's output (no password)
    server_version: str

    def fresh_database(self, cell_id: str) -> AbstractContextManager[URL]:
        """A new, empty database for one cell (URL without driver), removed afterwards."""
        ...


def pooled(server: DatabaseServer, url: URL) -> URL:
    """Where the app connects to a cell's database: the database itself, or a pooler in
    front of it (PgBouncer); the harness's own checks always go to the database."""
    through = getattr(server, "app_url", None)
    return through(url) if through is not None else url


@dataclass(frozen=True)
class StartedServer:
    """A server sessionbench started itself (a local cluster, a container): its admin
    URL, and how to stop and start it again under its clients (fault `restart`)."""

    url: URL
    restart: Callable[[], None]


@dataclass
class ProviderAttempts:
    """Why each provider in the chain was passed over, for the 'skipped' line."""

    reasons: list[str] = field(default_factory=list)

    def note(self, provider: str, reason: str) -> None:
        self.reasons.append(f"{provider}: {reason}")

    def unavailable(self, database: str) -> DatabaseUnavailable:
        return DatabaseUnavailable(f"{database} skipped: " + "; ".join(self.reasons))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
