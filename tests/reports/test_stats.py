"""The shared statistics on samples whose answers are known by hand."""

import math

import pytest
from scipy.stats import mannwhitneyu

from sessionbench.reports import stats


@pytest.mark.parametrize(("n", "arrangements"), [(3, 20), (5, 252), (10, 184_756)])
def test_fully_separated_samples_reach_one_arrangement_out_of_all(
    n: int, arrangements: int
) -> None:
    base = [100.0 + i for i in range(n)]
    new = [50.0 + i for i in range(n)]
    assert stats.rank_test([(base, new)], "lower") == pytest.approx(1 / arrangements)
    assert stats.smallest_p(n, n) == pytest.approx(1 / arrangements)
    assert stats.rank_test([(base, new)], "higher") == pytest.approx(1.0)


def test_ties_get_the_exact_permutation_p_not_the_asymptotic_one() -> None:
    # Latencies rounded to 10 ms.  Midranks 1.5 1.5 4 4 4 6; the new side's sum, 14, is
    # the largest possible and 3 of the 20 arrangements reach it: p = 3/20.
    base, new = [10.0, 10.0, 20.0], [20.0, 20.0, 30.0]
    assert stats.rank_test([(base, new)], "higher") == pytest.approx(0.15)
    asymptotic = mannwhitneyu(new, base, alternative="greater").pvalue
    assert asymptotic < 0.10  # the normal approximation claims more than the data hold


def test_all_values_tied_carry_no_evidence() -> None:
    assert stats.rank_test([([0.0] * 5, [0.0] * 5)], "higher") == 1.0


def test_a_shift_shared_by_many_cells_adds_up_when_no_cell_alone_can_show_it() -> None:
    # Each cell: 3 vs 3, new all worse (p = 0.05 each, never below after adjustment).
    cell = ([100.0, 101.0, 102.0], [80.0, 81.0, 82.0])
    assert stats.rank_test([cell], "lower") == pytest.approx(0.05)
    assert stats.rank_test([cell] * 13, "lower") < 1e-4
    # Mixed directions cancel out.
    opposite = ([80.0, 81.0, 82.0], [100.0, 101.0, 102.0])
    assert stats.rank_test([cell, opposite] * 6, "lower") > 0.3


def test_holm_adjusts_by_rank_and_stays_monotone() -> None:
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]


def test_weighted_holm_holds_each_test_to_its_share() -> None:
    # Weights 0.5 / 0.25 / 0.25: p/w = 0.02, 0.04, 0.16; steps: 0.01 * 1 / 0.5,
    # 0.01 * 0.5 / 0.25, then 0.04 * 0.25 / 0.25.
    assert stats.holm([0.01, 0.01, 0.04], [0.5, 0.25, 0.25]) == pytest.approx([0.02, 0.02, 0.04])
    assert stats.holm([0.001, 0.01], [0.0, 1.0]) == [1.0, 0.01]  # weight 0: never rejected


def test_hodges_lehmann_interval_with_its_exact_coverage() -> None:
    base, new = [100.0, 101.0, 102.0, 103.0, 104.0], [80.0, 81.0, 82.0, 83.0, 84.0]
    interval = stats.shift_interval(base, new, log=False)
    assert interval is not None
    assert interval.estimate == pytest.approx(-20.0)
    # 5 vs 5: P(U <= 2) = 4/252 is the largest tail within 2.5 %: the 3rd smallest and
    # 3rd largest of the 25 differences (-24 once, -23 twice, ..., -17 twice, -16 once),
    # coverage 1 - 8/252.
    assert (interval.low, interval.high) == (-23.0, -17.0)
    assert interval.confidence == pytest.approx(1 - 8 / 252)
    ratio = stats.shift_interval(base, new, log=True)
    assert ratio is not None and ratio.low < 80 / 102 < ratio.high


def test_three_repeats_allow_only_a_90_percent_interval() -> None:
    interval = stats.shift_interval([10.0, 11.0, 12.0], [20.0, 21.0, 22.0], log=False)
    assert interval is not None
    assert (interval.low, interval.high) == (8.0, 12.0)  # the extreme differences
    assert interval.confidence == pytest.approx(0.9)
    assert stats.shift_interval([0.0, 1.0], [1.0, 2.0], log=True) is None


def test_power_grows_with_repeats_and_says_when_nothing_can_be_seen() -> None:
    assert stats.detectable_shift(3, 3, 0.1, 0.05 / 4) is None  # 0.05 > 0.0125
    five = stats.detectable_shift(5, 5, 0.1, 0.05 / 4)
    ten = stats.detectable_shift(10, 10, 0.1, 0.05 / 4)
    assert five is not None and ten is not None and ten < five
    assert stats.repeats_needed(None, None, 0.05 / 4) == 5  # 1/252 <= 0.0125 < 1/70
    needed = stats.repeats_needed(0.1, math.log(1 / 0.9), 0.05 / 4)
    assert needed is not None
    shift = stats.detectable_shift(needed, needed, 0.1, 0.05 / 4)
    assert shift is not None and shift <= math.log(1 / 0.9)


def test_log_spread_pools_groups() -> None:
    assert stats.log_spread([[100.0, 100.0], [50.0, 50.0]]) == 0.0
    assert stats.log_spread([[100.0]]) is None
    spread = stats.log_spread([[90.0, 110.0]])
    assert spread == pytest.approx(abs(math.log(110 / 90)) / math.sqrt(2))
