"""Every threshold a verdict uses, with the reason for its value.

They are set so that each diagnosis fires on the target built to have the problem and
stays quiet on the targets built not to (tests/integration/test_truth_table.py), with
margin on a 2-core machine where the load generator shares the CPU.
"""

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
# Engines (pools) that made a first connection during the run.  An app has one or two;
# one per request gives hundreds.
ENGINES_MIN = 5

# connection-leak ---------------------------------------------------------------------
# Connections still checked out after load stopped and a full GC ran, or reclaimed by
# the garbage collector (SQLAlchemy's "non-checked-in connection" warning): any is a leak.
LEAKED_CONNECTIONS_MIN = 1

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

# lost-write --------------------------------------------------------------------------
# Commits that completed after their response was sent, acknowledged writes missing
# from the table, or reads right after a write that did not see it: any is a write
# the client was told had succeeded before it had.
LOST_WRITES_MIN = 1
