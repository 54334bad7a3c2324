"""Gate strings such as `rps:-10%,p99:+20%,lag_max:+50%`, parsed once at the CLI edge.

Each item names a metric and how far it may move in its bad direction before the
change counts: `rps:-10%` fails a throughput drop of more than 10 %, `p99:+20%` a p99
rise of more than 20 %.  The sign may be left out; a sign pointing the good way (a
rise in throughput "failing") is refused, as it is almost surely a typo.  For the
error-rate metrics (`errors`, `unfinished`) the percentage is in points: `errors:+1%`
fails an error rate that rises from 0.5 % to more than 1.5 %.
"""

import math
import re
from dataclasses import dataclass

from sessionbench.errors import UsageError

from .metrics import METRICS, Metric

DEFAULT_FAIL_ON = "rps:-10%,p99:+20%,lag_max:+50%,errors:+1%"
_ITEM = re.compile(r"\s*([a-z_0-9]+)\s*:\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*%\s*")


@dataclass(frozen=True)
class Threshold:
    metric: Metric
    fraction: float  # allowed change in the bad direction, e.g. 0.10

    def exceeded(self, change: float) -> bool:
        """Is the change (new/base, or new - base in points) beyond the allowed one, in
        the bad direction?"""
        if self.metric.scale == "points":
            return change > self.fraction
        if self.metric.better == "higher":
            return change < 1 - self.fraction
        return change > 1 + self.fraction

    @property
    def log_shift(self) -> float | None:
        """The threshold as a shift of log values (the power check's unit); None in points."""
        if self.metric.scale == "points":
            return None
        return abs(
            math.log(1 - self.fraction if self.metric.better == "higher" else 1 + self.fraction)
        )

    def __str__(self) -> str:
        sign = "-" if self.metric.better == "higher" else "+"
        return f"{self.metric.name}:{sign}{self.fraction:.0%}"


def parse_fail_on(text: str) -> list[Threshold]:
    thresholds = []
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if not match:
            raise UsageError(f"invalid --fail-on item {item.strip()!r}: use e.g. rps:-10%,p99:+20%")
        name, sign, percent = match.groups()
        metric = METRICS.get(name)
        if metric is None:
            raise UsageError(f"unknown metric {name!r} in --fail-on; valid: {', '.join(METRICS)}")
        bad_sign = "-" if metric.better == "higher" else "+"
        if sign and sign != bad_sign:
            raise UsageError(
                f"--fail-on {item.strip()!r}: {name} gets worse when it goes {bad_sign}, "
                f"write {name}:{bad_sign}{percent}%"
            )
        if not 0 < float(percent) < 100:
            raise UsageError(f"--fail-on {item.strip()!r}: the percentage must be in (0, 100)")
        thresholds.append(Threshold(metric, float(percent) / 100))
    return thresholds
