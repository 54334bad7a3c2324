"""The statistics the gate and the recommendation share: rank tests, intervals, power.

Repeats of a benchmark are few (3 to 10), skewed, and tied: Locust rounds latencies to
10 or 100 ms, so several repeats often report the same p99.  Hence:

- `rank_test`: a one-sided rank-sum test (Mann-Whitney U on midranks) whose p-value
  comes from the permutation distribution of the ranks actually seen, ties included:
  enumerated exactly when there are few arrangements, else 20,000 seeded random
  permutations.  Several strata (cells) are combined by summing each one's
  standardised statistic (van Elteren's idea), so a change shared by many cells adds
  up even when no single cell can show it.
- `holm`: Holm's step-down adjustment over a family fixed in advance, optionally
  weighted (Holm 1979): a test of weight w is held to w * ALPHA / (weights left).
- `shift_interval`: the Hodges-Lehmann estimate of the change and its distribution-free
  confidence interval (order statistics of the pairwise differences, with the exact
  coverage the sample sizes allow, said when below the one asked for); on logarithms
  for ratios.
- `detectable_shift` / `repeats_needed`: how large a change N repeats a side can catch
  4 times in 5, from the spread measured (normal approximation with the rank test's
  asymptotic efficiency, 0.955).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from statistics import NormalDist

import numpy as np
from scipy.stats import rankdata

ALPHA = 0.05
POWER = 0.80  # "can detect": caught 4 times in 5
EXACT_LIMIT = 200_000  # arrangements enumerated exactly; more are sampled
RESAMPLES = 20_000
RANK_EFFICIENCY = 0.955  # Mann-Whitney's asymptotic efficiency against the t-test
SEED = 20_250_101  # fixed: the same files always give the same verdict

Stratum = tuple[Sequence[float], Sequence[float]]  # (base, new) repeats of one cell


def _standardised(ranks: np.ndarray, m: int, sums: np.ndarray) -> np.ndarray:
    """Rank sums of the `m` new repeats as z-scores under the permutation null."""
    n_all = len(ranks)
    mean = m * (n_all + 1) / 2
    variance = m * (n_all - m) / (n_all * (n_all - 1)) * float(((ranks - ranks.mean()) ** 2).sum())
    return np.asarray((sums - mean) / math.sqrt(variance))


def rank_test(strata: Sequence[Stratum], worse: str) -> float:
    """One-sided p-value that the new repeats are worse, `worse` being "lower" (a
    throughput drop) or "higher" (a latency rise).  Strata where every value ties carry
    no information and are left out; with none left the p-value is 1."""
    sign = -1.0 if worse == "lower" else 1.0
    informative = []
    for base, new in strata:
        ranks = rankdata(np.array([*base, *new], dtype=float) * sign)
        if base and new and not np.all(ranks == ranks[0]):
            informative.append((ranks, len(new)))
    if not informative:
        return 1.0
    observed = sum(
        float(_standardised(r, m, np.array(r[len(r) - m :].sum()))) for r, m in informative
    )
    if (
        len(informative) == 1
        and math.comb(len(informative[0][0]), informative[0][1]) <= EXACT_LIMIT
    ):
        ranks, m = informative[0]
        chosen = np.array(list(combinations(range(len(ranks)), m)))
        null = _standardised(ranks, m, ranks[chosen].sum(axis=1))
        return int(np.count_nonzero(null >= observed - 1e-9)) / len(null)
    rng = np.random.default_rng(SEED)
    null = np.zeros(RESAMPLES)
    for ranks, m in informative:  # each stratum shuffled on its own, summed draw by draw
        shuffled = rng.permuted(np.tile(ranks, (RESAMPLES, 1)), axis=1)
        null += _standardised(ranks, m, shuffled[:, :m].sum(axis=1))
    return (int(np.count_nonzero(null >= observed - 1e-9)) + 1) / (RESAMPLES + 1)


def smallest_p(n_base: int, n_new: int) -> float:
    """The smallest one-sided p-value one cell can reach: one arrangement out of all."""
    return 1 / math.comb(n_base + n_new, n_new)


def holm(p_values: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Holm's step-down adjustment, weighted: the family-wise false-alarm rate stays
    <= ALPHA whatever the dependence between the tests.  Equal weights by default; a
    test of weight 0 is never rejected (adjusted p 1) and costs the others nothing."""
    w = list(weights) if weights is not None else [1.0] * len(p_values)
    live = [i for i in range(len(p_values)) if w[i] > 0]
    order = sorted(live, key=lambda i: p_values[i] / w[i])
    adjusted = [1.0] * len(p_values)
    left, running = sum(w[i] for i in live), 0.0
    for i in order:
        running = max(running, min(1.0, p_values[i] * left / w[i]))
        adjusted[i] = running
        left -= w[i]
    return adjusted


def can_differ(stratum: Stratum) -> bool:
    """False when every value ties: no arrangement of the labels can make the test
    reject, so (Tarone's argument) counting it in the family would only cost power.
    Decided from the values alone, not from which side each came from."""
    values = [*stratum[0], *stratum[1]]
    return len(set(values)) > 1


@cache
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many arrangements give each value of U (no ties), U = 0 .. m*n."""
    if m == 0 or n == 0:
        return (1,)
    with_last_in_m = _u_counts(m - 1, n)  # the largest value is one of the m: adds n
    with_last_in_n = _u_counts(m, n - 1)
    counts = [0] * (m * n + 1)
    for u, c in enumerate(with_last_in_m):
        counts[u + n] += c
    for u, c in enumerate(with_last_in_n):
        counts[u] += c
    return tuple(counts)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    confidence: float  # the coverage reached: below the one asked for at tiny samples


def shift_interval(
    base: Sequence[float], new: Sequence[float], *, log: bool, confidence: float = 0.95
) -> Interval | None:
    """Hodges-Lehmann change new - base (on logarithms and returned as a ratio when
    `log`): the median of all pairwise differences, and the order statistics of those
    differences that the U distribution makes a `confidence` interval.  None when a
    side is empty, or `log` meets a value <= 0."""
    if not base or not new or (log and min(*base, *new) <= 0):
        return None
    transform = np.log if log else np.asarray
    differences = np.sort(
        np.subtract.outer(transform(np.asarray(new, float)), transform(np.asarray(base, float)))
    ).ravel()
    differences.sort()  # all pairs, not only within a row
    counts = _u_counts(len(base), len(new))
    total = sum(counts)
    # Largest k whose tails each hold at most (1 - confidence) / 2; k >= 1 always.
    k, tail = 1, counts[0]
    while k < len(counts) // 2 and 2 * (tail + counts[k]) / total <= 1 - confidence:
        tail += counts[k]
        k += 1
    reached = 1 - 2 * tail / total
    low, high = differences[k - 1], differences[len(differences) - k]
    estimate = float(np.median(differences))
    if log:
        return Interval(math.exp(estimate), math.exp(low), math.exp(high), reached)
    return Interval(estimate, float(low), float(high), reached)


def log_spread(groups: Sequence[Sequence[float]]) -> float | None:
    """Pooled within-group standard deviation of log values: the run-to-run noise as
    a fraction (0.1 is about 10 %).  None without two positive values in some group."""
    squares, degrees = 0.0, 0
    for group in groups:
        logs = [math.log(v) for v in group if v > 0]
        if len(logs) >= 2:
            mean = sum(logs) / len(logs)
            squares += sum((x - mean) ** 2 for x in logs)
            degrees += len(logs) - 1
    return math.sqrt(squares / degrees) if degrees else None


def detectable_shift(n_base: int, n_new: int, spread: float, alpha: float) -> float | None:
    """The log shift a one-sided rank test at `alpha` catches with probability POWER;
    None when no arrangement of that many repeats can reach `alpha` at all."""
    if min(n_base, n_new) < 1 or smallest_p(n_base, n_new) > alpha:
        return None
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(POWER)
    return z * spread * math.sqrt((1 / n_base + 1 / n_new) / RANK_EFFICIENCY)


def repeats_needed(spread: float | None, shift: float | None, alpha: float) -> int | None:
    """Fewest repeats a side that catch a log `shift` (any shift when None) at `alpha`,
    up to 100; None if even 100 do not."""
    for n in range(2, 101):
        detectable = detectable_shift(n, n, spread or 0.0, alpha)
        if detectable is not None and (shift is None or detectable <= shift):
            return n
    return None


def pooled_interval(
    strata: Sequence[Stratum], *, log: bool, confidence: float = 0.95
) -> Interval | None:
    """The change shared by several cells: the geometric mean of their ratios of
    medians (the mean difference when not `log`), with a percentile bootstrap that
    resamples each cell's repeats on their own side."""
    if not strata or any(not b or not n for b, n in strata):
        return None
    if log and any(min(*b, *n) <= 0 for b, n in strata):
        return None
    rng = np.random.default_rng(SEED)
    transform = np.log if log else np.asarray
    estimate, draws = 0.0, np.zeros(2_000)
    for base, new in strata:
        b, n = transform(np.asarray(base, float)), transform(np.asarray(new, float))
        estimate += float(np.median(n) - np.median(b)) / len(strata)
        resampled_b = np.median(rng.choice(b, (len(draws), len(b))), axis=1)
        resampled_n = np.median(rng.choice(n, (len(draws), len(n))), axis=1)
        draws += (resampled_n - resampled_b) / len(strata)
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    back = math.exp if log else float
    return Interval(back(estimate), back(float(low)), back(float(high)), confidence)
