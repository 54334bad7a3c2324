"""The threadpool that runs `def` routes and sync dependencies (anyio's default limiter).

Tokens borrowed against the total matter when a sync strategy's threads wait for pool
connections: every waiting thread holds a token that no other request can use.

Sampled on the loop monitor's tick rather than on a timer of its own: every timer that
wakes an idle loop costs a system call round trip (about 0.1 ms on these VMs, so 100
samples a second alone took 1.8 % of a core).  Ticks come every 2 ms while the loop
is free and far less often while 40 busy threads contend for the GIL, so each sample
counts for the time since the one before: the share is of time, not of samples.
"""

import time

import anyio.to_thread

from sessionbench.reading import ThreadpoolReading


class ThreadpoolProbe:
    def __init__(self) -> None:
        self.borrowed = 0
        self.borrowed_max = 0
        self.total = 0
        self.saturated_s = 0.0
        self.observed_s = 0.0
        self._last: float | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def start(self) -> None:
        """On the app's loop: its limiter, looked up once (the lookup costs more than a
        sample)."""
        self._limiter = anyio.to_thread.current_default_thread_limiter()

    def sample(self) -> None:
        limiter = self._limiter
        if limiter is None:
            return
        now = time.perf_counter()
        self.borrowed, self.total = limiter.borrowed_tokens, int(limiter.total_tokens)
        self.borrowed_max = max(self.borrowed_max, self.borrowed)
        if self._last is not None:
            # The state seen now stands for the time since the last look: a tick held
            # back by busy threads comes late, after time spent in that state.
            elapsed = now - self._last
            self.observed_s += elapsed
            if self.borrowed >= self.total:
                self.saturated_s += elapsed
        self._last = now

    def snapshot(self) -> ThreadpoolReading:
        return ThreadpoolReading(
            borrowed=self.borrowed,
            borrowed_max=self.borrowed_max,
            total=self.total,
            saturated_share=self.saturated_s / self.observed_s if self.observed_s else 0.0,
        )
