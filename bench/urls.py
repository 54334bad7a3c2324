"""Database URL handling: parsing user input, choosing drivers, masking passwords."""

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from sessionbench.errors import UsageError

# Drivers per backend and API flavour; the first is the default.
DRIVERS: dict[str, dict[str, tuple[str, ...]]] = {
    "sqlite": {"sync": ("pysqlite",), "async": ("aiosqlite",)},
    "postgresql": {"sync": ("psycopg",), "async": ("asyncpg", "psycopg")},
    "mysql": {"sync": ("pymysql",), "async": ("aiomysql",)},  # MySQL and MariaDB
}


def parse_database_url(raw: str) -> URL:
    """A URL of a supported database, with whatever driver it names."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UsageError(f"malformed database URL: {mask(raw)}") from None
    if url.get_backend_name() not in DRIVERS:
        raise UsageError(
            f"unsupported database in URL {mask(raw)}; supported: {', '.join(DRIVERS)}"
        )
    return url


def parse_url(raw: str) -> URL:
    url = parse_database_url(raw)
    if "+" in url.drivername:  # a driver the harness does not use: say so, do not ignore it
        with_driver(url, url.drivername.partition("+")[2])
    return url


def with_driver(url: URL, driver: str) -> URL:
    backend = url.get_backend_name()
    known = {d for flavour in DRIVERS[backend].values() for d in flavour}
    if driver not in known:
        raise UsageError(
            f"unknown driver {driver!r} for {backend}; valid: {', '.join(sorted(known))}"
        )
    return url.set(drivername=f"{backend}+{driver}")


def driver_for(backend: str, api: str, preferred: str | None = None) -> str:
    """The driver a cell uses: the preferred one where this backend offers it."""
    choices = DRIVERS[backend][api]
    return preferred if preferred in choices else choices[0]


def check_async_driver(name: str) -> str:
    known = sorted({d for flavours in DRIVERS.values() for d in flavours["async"]})
    if name not in known:
        raise UsageError(f"unknown async driver {name!r}; valid: {', '.join(known)}")
    return name


def mask(url: URL | str) -> str:
    """The URL as it may be printed or stored: never with its password."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def mask_argv(argv: list[str]) -> list[str]:
    """A command line as it may be stored: URLs in it (`--x URL`, `--x=URL`) masked."""

    def masked(arg: str) -> str:
        option, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        return option + sep + mask(value) if "://" in value else arg

    return [masked(arg) for arg in argv]
