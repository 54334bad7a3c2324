"""Every threshold a verdict uses, with the reason for its value.

Each value comes from the mechanism it detects (what a healthy app does, what the
problem does); the truth table (tests/integration/test_truth_table.py) checks them
against targets built to have each problem and targets built not to.
"""

from dataclasses import dataclass

# Every finding states the figure that decided it and its margin past the threshold.
# Figures of one cell spread by 10-20 % from run to run on a busy 2-core machine (the
# gate's calibration measured a coefficient of variation near 19 % for 3 s runs), so a
# verdict decided within 25 % of its threshold may not repeat: it is "borderline".
BORDERLINE_MARGIN = 0.25

# event-loop-blocking -----------------------------------------------------------------
# A healthy loop reaches a 2 ms timer within a few ms even under load; OS preemption on
# a busy 2-core box adds up to ~20-30 ms.  A 40 ms stall is one request's worth of
# blocking database work, not scheduling noise.
BLOCKING_STALL_MS = 40.0
# One such stall can be a fluke (an import, a cold cache); several are a pattern.
BLOCKING_MIN_STALLS = 3
# ... and they must recur or add up: code that blocks does so with every request that
# runs it (many stalls a second), or for long (a large share of the run).  A few stalls
# over a run (an engine built now and then on a busy box) are not a pattern.
BLOCKING_STALLS_PER_S = 2.0
BLOCKING_STALLED_SHARE = 0.25
# Any single stall this long in the app's code is blocking on its own: a second in which
# the worker answered nobody, /health included.
BLOCKING_SINGLE_STALL_MS = 1000.0
# Share of the load window the loop spent waiting off the CPU inside the app's code
# while held (its timer overdue by a watchdog period).  An async app waits for I/O by
# yielding to the loop, so it spends ~0 % there (healthy targets measure 0-0.5 % under
# load here: GIL hand-offs); a sync driver call in an `async def` route waits there for
# every query's round trip, even when each takes only a few ms (`sync-in-async`, crud on
# Postgres: 11-17 %).  Ten times the noise floor: 5 % of the worker's capacity gone to
# waiting on the loop is a pattern, not noise.
BLOCKING_WAITING_SHARE = 0.05
# Sync driver calls (psycopg, PyMySQL, sqlite3) made on the loop's thread while serving a
# request: each holds the loop for its round trip, so one is the pattern, however fast.
# An async app makes none (its drivers await); start-up code outside requests is not
# counted.
BLOCKING_SYNC_DRIVER_CALLS = 1

# GC pauses (a note, not a problem of the strategy) -----------------------------------
# Full collections in a busy app stop the loop for 50-80 ms on this kind of machine.
GC_NOTE_STALL_MS = 40.0

# pool-exhaustion ---------------------------------------------------------------------
# Any `QueuePool limit ... reached` timeout is a request that failed for want of a
# connection.
POOL_TIMEOUTS_MIN = 1
# Or requests waited long for a connection with the pool at capacity: a second of
# waiting is user-visible, far above the sub-millisecond checkout of a free connection.
POOL_WAIT_P99_MS = 1000.0

# threadpool-starvation ---------------------------------------------------------------
# Share of the run during which every threadpool token was borrowed.  Short bursts at
# the limit are normal; a fifth of the run means requests queued for a thread.
THREADPOOL_SATURATED_SHARE = 0.2

# connection-churn --------------------------------------------------------------------
# New server connections per second of load beyond what fills the pool once.  A pool
# that keeps its connections opens none after warm-up; overflow connections closed on
# check-in reopen at request rate (hundreds per second).
CHURN_CONNECTS_PER_S = 10.0
# ... and per request: churn worth fixing costs a connection for a good share of the
# requests; a few reconnects over thousands of requests are noise.
CHURN_CONNECTS_PER_REQUEST = 0.1

# engine-per-request ------------------------------------------------------------------
# Engines (pools) that made a first connection.  An app builds a fixed few at start-up
# (a writer and a reader, say), however many requests it serves ...
ENGINES_AT_STARTUP = 2
# ... so engines beyond those per request tend to zero as traffic grows; building one in
# the request path gives one per request (less when requests fail before connecting).
# One request in four is far above any start-up cost spread over a run.
ENGINES_PER_REQUEST = 0.25
# Engines first connected by a request of one route and never used by another request:
# one per route may be a lazily built shared engine (connected on first use, its route
# called once); more from the same route are built per request.
LAZY_ENGINES_PER_ROUTE = 1

# connection-leak ---------------------------------------------------------------------
# Connections still checked out after load stopped and a full GC ran, or reclaimed by
# the garbage collector (SQLAlchemy's "non-checked-in connection" warning): any is a leak.
LEAKED_CONNECTIONS_MIN = 1

# cancelled-close ---------------------------------------------------------------------
# Connections invalidated because a cancellation (a client that hung up) cut a session's
# or connection's close() short.  A close that survives cancellation (`async with`, whose
# exit runs close() to completion, or a shielded close) is never cut short, whatever the
# clients do: a correct app has none, so any is the mistake.  Cancellations that land in
# a query also invalidate the connection, in any app, and are not counted.
CANCELLED_CLOSES_MIN = 1

# session-leak ------------------------------------------------------------------------
# Sessions still alive after quiesce and a full GC, beyond a small allowance for what a
# framework may cache: a healthy app holds none once requests are done.
LEAKED_SESSIONS_MIN = 10
# ... and a large share of all sessions the app opened: a registry that keeps every
# request's session holds nearly all of them, while a few sessions kept alive by stored
# tracebacks of failed requests (the trail of a connection leak) are a small share.
LEAKED_SESSIONS_SHARE = 0.2

# idle-in-transaction -----------------------------------------------------------------
# Sessions or server connections still inside a transaction after quiesce: any holds
# locks and a connection that nothing will release.
IDLE_IN_TRANSACTION_MIN = 1
# ... or, during load, a transaction the server saw idle for this long (Postgres,
# sampled twice a second).  Between two statements of one request a transaction idles
# for a round trip and the Python between them: milliseconds, a GC pause at worst
# (50-100 ms here).  Half a second idle is a transaction held open while the request
# waited for something other than the database (another service, a sleep, a client).
IDLE_IN_TRANSACTION_AGE_S = 0.5

# shared-session ----------------------------------------------------------------------
# Errors that SQLAlchemy and the drivers raise only when two tasks use one session or
# one connection at the same time: a single one proves the session is shared.
SHARED_SESSION_ERRORS_MIN = 1

# lost-write --------------------------------------------------------------------------
# Commits that completed after their response was sent, acknowledged writes missing
# from the table, or reads right after a write that did not see it: any is a write
# the client was told had succeeded before it had.
LOST_WRITES_MIN = 1

# pooler-prepared-statements ----------------------------------------------------------
# A named prepared statement missing on, or already on, the server connection the pooler
# gave this transaction: a single one proves the driver keeps statements per client
# connection while the pooler moves it between server connections.
POOLER_STATEMENT_ERRORS_MIN = 1

# failed-requests ---------------------------------------------------------------------
# Any request answered with an unexpected error, or left unanswered when load stopped,
# is a user not served: the cell is never healthy.  (GET /fail's deliberate 500 counts
# as a success.)
FAILED_REQUESTS_MIN = 1
# From one request in a hundred the failures are an error, below it a warning.
FAILED_REQUESTS_ERROR_RATE = 0.01
FAILURE_CAUSES_SHOWN = 3  # the most frequent causes, in the finding's evidence


@dataclass(frozen=True)
class Limits:
    """The thresholds that depend on how long the evidence was gathered.  A run's
    defaults suit minutes of load; a caller looking at a short window of a few requests
    (a test) sets its own, since a pattern has no time there to recur."""

    blocking_stall_ms: float = BLOCKING_STALL_MS
    blocking_single_stall_ms: float = BLOCKING_SINGLE_STALL_MS
    leaked_sessions_min: int = LEAKED_SESSIONS_MIN
    leaked_sessions_share: float = LEAKED_SESSIONS_SHARE
    engines_at_startup: int = ENGINES_AT_STARTUP


# stale-connections --------------------------------------------------------------------
# A request that began this long after the server had closed the target's connections
# and then lost its own was handed a dead connection by the pool.  pg_terminate_backend
# and KILL return once the sessions are signalled; they end within milliseconds, even
# on a busy 2-core machine well within a tenth of a second.  A request begun earlier may
# have lost a live connection mid-query, which no pool setting prevents.
STALE_GRACE_S = 0.1
# With pool_pre_ping, a checkout tests the connection and replaces a dead one, so no
# request that begins after the fault gets one: a single such failure proves the pool
# handed out a connection the server had closed.
STALE_CHECKOUTS_MIN = 1
