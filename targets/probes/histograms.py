"""Whole-millisecond histograms: the loop timer's lateness, connection hold times."""

from sessionbench.reading import HoldReading


def percentile(histogram: dict[int, int], total: int, fraction: float) -> float:
    """The bucket holding the `fraction` quantile of `total` counts."""
    rank, seen = fraction * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(bucket)
    return 0.0


class HoldTimes:
    """Checkout-to-checkin times of one route's connections (whole-ms histogram)."""

    def __init__(self) -> None:
        self.histogram: dict[int, int] = {}
        self.checkins = 0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        bucket = int(ms)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + 1
        self.checkins += 1
        self.max_ms = max(self.max_ms, ms)

    def snapshot(self) -> HoldReading:
        return HoldReading(
            checkins=self.checkins,
            p50_ms=percentile(self.histogram, self.checkins, 0.5),
            p99_ms=percentile(self.histogram, self.checkins, 0.99),
            max_ms=round(self.max_ms, 3),
            histogram=dict(self.histogram),
        )
