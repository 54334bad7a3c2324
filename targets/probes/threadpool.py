"""The threadpool that runs `def` routes and sync dependencies (anyio's default limiter).

Tokens borrowed against the total matter when a sync strategy's threads wait for pool
connections: every waiting thread holds a token that no other request can use.
"""

import asyncio

import anyio.to_thread

from sessionbench.reading import ThreadpoolReading

SAMPLE_PERIOD_S = 0.01


class ThreadpoolProbe:
    def __init__(self) -> None:
        self.borrowed = 0
        self.borrowed_max = 0
        self.total = 0
        self.saturated_samples = 0
        self.samples = 0
        self._handle: asyncio.TimerHandle | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def start(self) -> None:
        # The loop's limiter, looked up once: the lookup costs more than the sample.
        self._limiter = anyio.to_thread.current_default_thread_limiter()
        self._sample()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _sample(self) -> None:
        limiter = self._limiter
        assert limiter is not None
        self.borrowed, self.total = limiter.borrowed_tokens, int(limiter.total_tokens)
        self.borrowed_max = max(self.borrowed_max, self.borrowed)
        self.samples += 1
        if self.borrowed >= self.total:
            self.saturated_samples += 1
        self._handle = asyncio.get_running_loop().call_later(SAMPLE_PERIOD_S, self._sample)

    def snapshot(self) -> ThreadpoolReading:
        return ThreadpoolReading(
            borrowed=self.borrowed,
            borrowed_max=self.borrowed_max,
            total=self.total,
            saturated_share=self.saturated_samples / self.samples if self.samples else 0.0,
        )
