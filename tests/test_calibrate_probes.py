"""The overhead's verdict is only as sure as its runs: an interval that straddles the
goal says so instead of passing or failing on a point estimate."""

from sessionbench.bench.calibrate_probes import ratio_interval_text

OFF = [400.0, 410.0, 395.0, 405.0, 398.0, 402.0, 407.0, 399.0]


def test_a_clear_cost_misses_the_goal() -> None:
    on = [v * 0.90 for v in OFF]
    assert ratio_interval_text(on, OFF).endswith("the goal is missed")


def test_no_cost_meets_the_goal() -> None:
    on = [v * 1.001 for v in reversed(OFF)]
    assert ratio_interval_text(on, OFF).endswith("the goal is met")


def test_runs_scattered_wider_than_the_cost_cannot_tell() -> None:
    on = [483.0, 396.0, 429.0, 398.0, 374.0, 491.0, 494.0, 296.0]
    off = [442.0, 474.0, 450.0, 393.0, 433.0, 462.0, 396.0, 513.0]
    text = ratio_interval_text(on, off)
    assert text.startswith("95% interval 0.83") and "too few or too scattered" in text
