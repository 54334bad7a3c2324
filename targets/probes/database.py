"""Pool, engine and session readings from SQLAlchemy's own events.

Listeners sit on the `Pool` and `Session` classes, so they also see engines a target
builds on the fly (one per request, say) that were never handed to the probes.  None
sits on the `Engine` class: any listener there switches on SQLAlchemy's per-statement
event dispatch for every engine (about 95 more Python calls for a one-statement
transaction), so an engine is seen through its pool, at the pool's first checkout.
Checkout waits are timed for every pool too (`checkout_wait`); the engine a target
does hand over (`watch_engine`) also reports its pool's overflow.

Each checkout, session and first connection is attributed to the request being served
(its route) and the app's own line, so what is left over names where it came from.
"""

import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool, QueuePool

from sessionbench.reading import PoolReading

from .cancelled import close_cancelled
from .checkout_wait import CheckoutWait
from .histograms import HoldTimes
from .locations import APP_FRAME_DEPTH, app_location_here
from .requests import OUTSIDE, RequestMark, current_request
from .sites import SiteKey, SiteTally, tally

# SQLAlchemy's warning when a connection is garbage-collected instead of checked in.
GC_CONNECTION_WARNING = "The garbage collector is trying to clean up"
# In the connection's `info`: the request that checked it out and its site, so the
# session that begins on it right after is attributed without a second stack walk.
CHECKOUT_SITE = "sessionbench.checkout_site"


def _site(mark: RequestMark | None) -> SiteKey:
    """The request's route and the app's line where the calling handler was reached."""
    return (mark.route if mark is not None else None, app_location_here(APP_FRAME_DEPTH))


class DatabaseProbe:
    def __init__(self) -> None:
        self.connections_opened = 0
        self.connections_closed = 0
        self.checkouts = 0
        self.checked_out = 0
        self.checked_out_max = 0
        self.invalidations = 0
        self.pools_connected = 0  # pools that made a first connection: engines in use
        self.gc_cleaned_connections = 0
        self.overflow_max = 0
        self.checkout_wait = CheckoutWait()
        # id of a session that began a transaction -> a weak reference to it, whose
        # callback tells when the session is collected.
        self._sessions: dict[int, weakref.ref[Session]] = {}
        self.sessions_begun = 0
        self._holding: set[int] = set()  # ids of sessions inside a transaction
        self._session_sites: dict[int, SiteKey] = {}  # id of an alive session -> its site
        self.gc_cleaned_at = SiteTally()
        self.cancelled_closes = SiteTally()
        self.idle_after_request = SiteTally()
        # A checked-out connection's record -> (route, app line, checkout time).  Held
        # until its checkin, which SQLAlchemy also sends for a connection the garbage
        # collector returns; plain dicts here and below, as weak ones allocate a
        # reference on every lookup and these run for every request.
        self._out: dict[Any, tuple[SiteKey, float]] = {}
        self._hold: dict[str, HoldTimes] = {}
        # Pools (one per engine) a request checked out from first, until another request
        # uses them: engines built per request stay here.  id(pool) -> (that request,
        # its site).
        self._request_pools: dict[int, tuple[weakref.ref[RequestMark], SiteKey]] = {}
        self.engines_in_requests = SiteTally()
        # id of a pool that checked out -> a weak reference that forgets it when it goes.
        self._pools: dict[int, weakref.ref[Pool]] = {}
        self._watched: list[Pool] = []
        # Called with each pool at its first checkout (the pool of every engine in use).
        self.pool_seen: list[Callable[[Pool], None]] = []
        self._scoped_registries: list[Callable[[], int]] = []
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = []
        self._showwarning = warnings.showwarning

    # -- installation -------------------------------------------------------------
    def install(self) -> None:
        self._listen(Pool, "connect", self._on_connect)
        self._listen(Pool, "first_connect", self._on_first_connect)
        self._listen(Pool, "checkout", self._on_checkout)
        self._listen(Pool, "checkin", self._on_checkin)
        self._listen(Pool, "close", self._on_close)
        self._listen(Pool, "close_detached", self._on_close)
        self._listen(Pool, "invalidate", self._on_invalidate)
        self._listen(Session, "after_begin", self._on_session_begin)
        self._listen(Session, "after_transaction_end", self._on_transaction_end)
        self.checkout_wait.install()
        warnings.filterwarnings("always", message=GC_CONNECTION_WARNING)
        warnings.showwarning = self._count_warning

    def uninstall(self) -> None:
        for target, name, fn in self._listeners:
            if event.contains(target, name, fn):
                event.remove(target, name, fn)
        self.checkout_wait.uninstall()
        warnings.showwarning = self._showwarning

    def _listen(self, target: Any, name: str, fn: Callable[..., None]) -> None:
        event.listen(target, name, fn)
        self._listeners.append((target, name, fn))

    def watch_engine(self, engine: Engine) -> None:
        """Read the overflow of this engine's pool."""
        self.watch_pool(engine.pool)

    def watch_pool(self, pool: Pool) -> None:
        self._watched.append(pool)

    def watch_registry(self, size: Callable[[], int]) -> None:
        self._scoped_registries.append(size)

    # -- event handlers -------------------------------------------------------------
    def _on_connect(self, _dbapi: Any, _record: Any) -> None:
        self.connections_opened += 1

    def _on_first_connect(self, _dbapi: Any, _record: Any) -> None:
        self.pools_connected += 1

    def _on_checkout(self, _dbapi: Any, record: Any, proxy: Any) -> None:
        self.checkouts += 1
        self.checked_out += 1
        self.checked_out_max = max(self.checked_out_max, self.checked_out)
        for pool in self._watched:
            if isinstance(pool, QueuePool):
                self.overflow_max = max(self.overflow_max, pool.overflow())
        mark = current_request.get()
        site = _site(mark)
        self._note_pool(proxy._pool, mark, site)
        self._out[record] = (site, time.perf_counter())
        # The request weakly: its scope must not outlive it.
        record.info[CHECKOUT_SITE] = (weakref.ref(mark) if mark is not None else None, site)

    def _note_pool(self, pool: Pool, mark: RequestMark | None, site: SiteKey) -> None:
        key = id(pool)
        if key not in self._pools:
            self._pools[key] = weakref.ref(pool, lambda _ref: self._forget_pool(key))
            for seen in self.pool_seen:
                seen(pool)
            if mark is not None:
                self._request_pools[key] = (weakref.ref(mark), site)
                self.engines_in_requests.add(site)
            return
        origin = self._request_pools.get(key)
        if origin is not None and origin[0]() is not mark:
            # Another request (or code outside requests) uses it: a shared engine.
            del self._request_pools[key]
            self.engines_in_requests.add(origin[1], -1)

    def _forget_pool(self, key: int) -> None:
        del self._pools[key]
        self._request_pools.pop(key, None)

    def _on_checkin(self, _dbapi: Any, record: Any) -> None:
        self.checked_out = max(0, self.checked_out - 1)
        out = self._out.pop(record, None)
        if out is not None:
            (route, _location), since = out
            hold = self._hold.get(route or OUTSIDE)
            if hold is None:
                hold = self._hold[route or OUTSIDE] = HoldTimes()
            hold.add((time.perf_counter() - since) * 1000)

    def _on_close(self, _dbapi: Any, *_args: Any) -> None:
        self.connections_closed += 1

    def _on_invalidate(self, _dbapi: Any, _record: Any, exception: Any) -> None:
        self.invalidations += 1
        if close_cancelled(exception):
            self.cancelled_closes.add(_site(current_request.get()))

    def _on_session_begin(self, session: Session, _transaction: Any, connection: Any) -> None:
        key = id(session)
        ref = self._sessions.get(key)
        if ref is None:
            # A plain callback rather than `weakref.finalize`: this runs once per request.
            ref = weakref.ref(session, lambda _ref: self._on_session_collected(key))
            self._sessions[key] = ref
            self.sessions_begun += 1
        self._holding.add(key)
        if isinstance(session.bind, Connection):
            # Bound to a connection its owner opened (a test's transactional fixture):
            # the owner ends that transaction, not the request that used the session.
            self._session_sites[key] = (None, app_location_here(APP_FRAME_DEPTH))
            return
        mark = current_request.get()
        checkout = connection.info.get(CHECKOUT_SITE)
        reuse = checkout is not None and (checkout[0] and checkout[0]()) is mark
        self._session_sites[key] = checkout[1] if reuse else _site(mark)
        if mark is not None:
            mark.sessions.append(ref)

    def request_ended(self, mark: RequestMark) -> None:
        """Transactions the request began and left open: nothing will end them now."""
        for ref in mark.sessions:
            session = ref()
            if session is not None and session.in_transaction():
                self.idle_after_request.add(self._session_sites.get(id(session), (None, None)))

    def _on_transaction_end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # the root transaction: the connection goes back
            self._holding.discard(id(session))

    def _on_session_collected(self, key: int) -> None:
        # Collected while still holding its transaction: nobody closed it, and only the
        # garbage collector returned (or dropped) its connection.
        del self._sessions[key]
        site = self._session_sites.pop(key, (None, None))
        if key in self._holding:
            self._holding.discard(key)
            self.gc_cleaned_connections += 1
            self.gc_cleaned_at.add(site)

    def _count_warning(self, message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if str(message).startswith(GC_CONNECTION_WARNING):
            self.gc_cleaned_connections += 1
        self._showwarning(message, category, *args, **kwargs)

    def request_leftovers(self) -> int:
        """Sessions requests began that are still alive, and connections they still have
        checked out: what a full collection could still change (cheap to count)."""
        sessions = sum(
            1 for s in self._alive_sessions() if self._session_sites.get(id(s), (None,))[0]
        )
        connections = sum(1 for (route, _line), _at in list(self._out.values()) if route)
        return sessions + connections

    def _alive_sessions(self) -> list[Session]:
        return [s for ref in list(self._sessions.values()) if (s := ref()) is not None]

    # -- readings ---------------------------------------------------------------------
    def snapshot(self) -> PoolReading:
        watched = [p for p in self._watched if isinstance(p, QueuePool)]
        sessions = self._alive_sessions()
        site_of = self._session_sites.get
        return PoolReading(
            connections_opened=self.connections_opened,
            connections_closed=self.connections_closed,
            checkouts=self.checkouts,
            checked_out=self.checked_out,
            checked_out_max=self.checked_out_max,
            overflow=max(0, sum(p.overflow() for p in watched)),
            overflow_max=self.overflow_max,
            pool_timeouts=self.checkout_wait.timeouts,
            invalidations=self.invalidations,
            checkout_wait_ms=dict(self.checkout_wait.histogram),
            engines_connected=self.pools_connected,
            pools_alive=len(self._pools),
            sessions_begun=self.sessions_begun,
            sessions_alive=len(sessions),
            sessions_in_transaction=sum(1 for s in sessions if s.in_transaction()),
            scoped_registry=sum(size() for size in self._scoped_registries)
            if self._scoped_registries
            else None,
            gc_cleaned_connections=self.gc_cleaned_connections,
            checked_out_at=tally(site for site, _since in list(self._out.values())),
            sessions_alive_at=tally(site_of(id(s), (None, None)) for s in sessions),
            sessions_in_transaction_at=tally(
                site_of(id(s), (None, None)) for s in sessions if s.in_transaction()
            ),
            gc_cleaned_at=self.gc_cleaned_at.snapshot(),
            cancelled_closes=sum(self.cancelled_closes.counts.values()),
            cancelled_closes_at=self.cancelled_closes.snapshot(),
            idle_after_request=sum(self.idle_after_request.counts.values()),
            idle_after_request_at=self.idle_after_request.snapshot(),
            engines_in_requests_at=self.engines_in_requests.snapshot(),
            hold_by_route={route: h.snapshot() for route, h in list(self._hold.items())},
        )
