"""Faults a scenario can carry (`fault = { kind = ..., at = ... }` in scenarios.toml).

A fault is data: its kind, when it hits (a fraction of the load window) and the kind's
own settings.  Each kind lists the keys it takes, so another kind (a client-side one,
say) is one more entry in `KINDS`.  The harness injects server-side kinds
(`bench/fault_injection.py`); the locustfile reads `pause_s` from the scenario's JSON.
"""

from dataclasses import dataclass

# The database server's side: what happens to the target's connections.
#   terminate     the target's server connections are closed under it (Postgres
#                 pg_terminate_backend, MariaDB KILL), as a failover or an admin does
#   restart       the database server is stopped and started again
#   idle-timeout  the server closes connections idle longer than `idle_timeout_s` (as an
#                 idle timeout or a firewall does); clients pause `pause_s` at `at` so
#                 pooled connections sit idle past it
# With `pause_s`, clients send nothing from `at` for that long: a terminate or restart is
# then injected half-way through the pause, onto connections idle in the pool, and meets
# the clients when the pause ends (the quiet-hours failover).  Without it, it hits the
# connections in use at `at`.
KINDS: dict[str, frozenset[str]] = {
    "terminate": frozenset({"pause_s"}),
    "restart": frozenset({"pause_s"}),
    "idle-timeout": frozenset({"idle_timeout_s", "pause_s"}),
}
# What the harness injects into the database server (bench/fault_injection.py); a
# client-side kind joins KINDS but not this set.
SERVER_SIDE = frozenset({"terminate", "restart", "idle-timeout"})


class FaultError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    kind: str
    at: float  # fraction of the load window at which it hits
    idle_timeout_s: float = 0.0
    pause_s: float = 0.0  # clients send nothing for this long from `at`

    @property
    def inject_after_s(self) -> float:
        """Seconds after `at` at which the harness injects it: half-way through a pause
        (an idle timeout is set before the target connects)."""
        return 0.0 if self.kind == "idle-timeout" else self.pause_s / 2

    def describe(self) -> str:
        what = self.kind
        if self.kind == "idle-timeout":
            what += f" {self.idle_timeout_s:g} s"
        pause = f" during a {self.pause_s:g} s pause of the clients" if self.pause_s else ""
        return f"{what} at {self.at:.0%} of the run{pause}"


def _seconds(where: str, table: dict[str, object], key: str) -> float:
    value = table.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise FaultError(f"{where}: '{key}' must be a positive number of seconds")
    return float(value)


def parse_fault(scenario: str, table: object) -> Fault:
    where = f"scenario {scenario!r}: fault"
    if not isinstance(table, dict):
        raise FaultError(f'{where} must be a table, e.g. {{ kind = "terminate", at = 0.4 }}')
    kind = table.get("kind")
    if kind not in KINDS:
        raise FaultError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = sorted(set(table) - {"kind", "at"} - KINDS[kind])
    if unknown:
        raise FaultError(f"{where} {kind}: unknown key(s) {', '.join(unknown)}")
    at = table.get("at")
    if not isinstance(at, int | float) or isinstance(at, bool) or not 0 < at < 1:
        raise FaultError(f"{where}: 'at' must be a fraction of the run between 0 and 1")
    if kind != "idle-timeout":
        pause_s = _seconds(where, table, "pause_s") if "pause_s" in table else 0.0
        return Fault(kind=kind, at=float(at), pause_s=pause_s)
    timeout_s = _seconds(where, table, "idle_timeout_s")
    pause_s = _seconds(where, table, "pause_s")
    if pause_s <= timeout_s:
        raise FaultError(
            f"{where}: 'pause_s' ({pause_s:g}) must exceed 'idle_timeout_s' ({timeout_s:g}), "
            "or no pooled connection ever sits idle long enough to be closed"
        )
    return Fault(kind=kind, at=float(at), idle_timeout_s=timeout_s, pause_s=pause_s)
