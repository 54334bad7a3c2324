"""Which strategy to choose, per database/pool/scenario group, and how sure that is.

A strategy is a candidate only if it is healthy and answers: no finding above info, no
failed or unfinished request, every repeat measured.  The others are named with the
reason to avoid them (an error finding or failed requests) or to be careful (a
warning), and never rank above a candidate.  Among candidates the best is the highest
median throughput; every other candidate is compared with it by the gate's statistics
(`stats`): a rank test of its repeats against the best's (two-sided, since the best was
picked from the same data), Holm-adjusted over the group, and the ratio of medians with
the Hodges-Lehmann confidence interval of the ratio.  A candidate the test cannot tell
from the best is tied with it, and said so; a single run per strategy cannot rank at
all, and the section says how many repeats would.
"""

import math
import statistics
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Literal

from . import load_figures, stats
from .metrics import METRICS, values
from .summary import CellSummary, Verdict

# Run-to-run spread of throughput assumed when a run has no repeats to measure it:
# three back-to-back default runs on SQLite on 2 cores gave sync-threadpool 692, 487,
# 463 req/s and async-session 533, 445, 388 (log standard deviations 0.22 and 0.16).
SINGLE_RUN_SPREAD = 0.20
SMALLEST_GAP = math.log(1.05)  # gaps under 5 % are not worth the repeats to resolve

Standing = Literal["best", "tied", "behind", "caution", "avoid"]


@dataclass(frozen=True)
class Place:
    summary: CellSummary
    standing: Standing
    reason: str = ""  # why avoid or caution; the comparison with the best otherwise
    ratio: stats.Interval | None = None  # throughput / the best's
    p_adjusted: float | None = None

    @property
    def strategy(self) -> str:
        return self.summary.config.strategy


@dataclass(frozen=True)
class Group:
    database: str
    pool: str
    scenario: str
    places: list[Place]
    sentences: list[str]

    @property
    def title(self) -> str:
        return f"{self.database}, pool {self.pool}, scenario {self.scenario}"


def _failed_share(summary: CellSummary) -> float:
    sent = sum(c.load.requests for c in summary.repeats if c.load)
    failed = sum(c.load.failures for c in summary.repeats if c.load)  # unfinished included
    return failed / sent if sent else 0.0


def _unfit(summary: CellSummary) -> Place | None:
    """Avoid: unmeasured, failing requests, error findings; caution: warnings."""
    if summary.errors:
        return Place(summary, "avoid", f"could not be measured: {summary.errors[0]}")
    reasons = [f.kind for f in summary.findings if f.severity == "error"]
    share = _failed_share(summary)
    if share > 0:
        reasons.append(f"{share:.1%} of its requests failed or were left unanswered")
    if reasons:
        return Place(summary, "avoid", ", ".join(reasons))
    warnings = [f.kind for f in summary.findings if f.severity == "warning"]
    if warnings:
        return Place(summary, "caution", ", ".join(warnings))
    return None


def _rps(summary: CellSummary) -> list[float]:
    return values(METRICS["rps"], summary.repeats)


def _compare(candidates: list[CellSummary]) -> list[Place]:
    """The best by median throughput, every other one tied with it or behind it."""
    ranked = sorted(candidates, key=lambda s: -statistics.median(_rps(s) or [0.0]))
    best, others = ranked[0], ranked[1:]
    # Two-sided: which one is "the best" was itself read from these data.
    p_values = [min(1.0, 2 * stats.rank_test([(_rps(best), _rps(o))], "lower")) for o in others]
    places = [Place(best, "best")]
    for other, p in zip(others, stats.holm(p_values), strict=True):
        ratio = stats.shift_interval(_rps(best), _rps(other), log=True)
        if ratio is not None:  # the ratio of medians, as the medians shown; HL's interval
            median_ratio = statistics.median(_rps(other)) / statistics.median(_rps(best))
            ratio = replace(ratio, estimate=median_ratio)
        standing: Standing = "behind" if p <= stats.ALPHA else "tied"
        places.append(Place(other, standing, ratio=ratio, p_adjusted=p))
    return places


def _ratio_text(place: Place) -> str:
    if place.ratio is None:
        return ""
    r = place.ratio
    return (
        f"throughput x{r.estimate:.2f} of the best, {r.confidence:.0%} CI "
        f"{r.low:.2f} to {r.high:.2f}"
    )


def _median_text(place: Place) -> str:
    found = _rps(place.summary)
    if len(found) < 2:
        return place.strategy
    return f"{place.strategy} ({statistics.median(found):,.0f} req/s, median of {len(found)})"


@dataclass(frozen=True)
class RepeatsNeeded:
    repeats: int | None  # of each strategy; None: more than 100
    spread: float  # run-to-run, as a log standard deviation
    measured: bool  # False: SINGLE_RUN_SPREAD assumed
    gap: float  # log ratio of the two fastest medians
    sized_for: float  # the gap the repeats are sized for: at least SMALLEST_GAP

    @property
    def gap_text(self) -> str:
        gap = f"{math.exp(self.gap) - 1:.0%}"
        if self.sized_for > self.gap:
            return (
                f"a {math.exp(self.sized_for) - 1:.0%} difference (the smallest worth "
                f"resolving; the two fastest differ by {gap})"
            )
        return f"the {gap} gap between the two fastest"


def repeats_to_rank(throughputs: list[list[float]]) -> RepeatsNeeded | None:
    """Repeats of each of these strategies' runs that would tell the two fastest apart
    (4 times in 5), from the spread measured between their repeats; None for fewer
    than two strategies."""
    if len(throughputs) < 2 or any(not t for t in throughputs):
        return None
    measured = stats.log_spread(throughputs)
    spread = measured if measured is not None else SINGLE_RUN_SPREAD
    medians = sorted((statistics.median(t) for t in throughputs), reverse=True)
    gap = abs(math.log(medians[0] / medians[1])) if min(medians[:2]) > 0 else 0.0
    sized_for = max(gap, SMALLEST_GAP)
    alpha = stats.ALPHA / 2 / (len(throughputs) - 1)  # two-sided, Holm's first step
    return RepeatsNeeded(
        stats.repeats_needed(spread, sized_for, alpha), spread, measured is not None, gap,
        sized_for,
    )  # fmt: skip


def _repeats_advice(places: list[Place]) -> str | None:
    """Too few repeats to tell the candidates apart: how many would, from the spread."""
    candidates = [_rps(p.summary) for p in places if p.standing in ("best", "tied", "behind")]
    needed = repeats_to_rank(candidates)
    if needed is None:
        return None
    how_many = (
        f"{needed.repeats} repeats of each" if needed.repeats else "more than 100 repeats of each"
    )
    basis = (
        f"a spread of {needed.spread:.0%} between runs"
        if needed.measured
        else f"a typical spread of {SINGLE_RUN_SPREAD:.0%} between runs on 2 cores"
    )
    gap_text = needed.gap_text
    if min(len(c) for c in candidates) == 1:
        return (
            f"A single run per strategy cannot rank them: telling apart {gap_text} at "
            f"{basis} takes about {how_many} (`sessionbench run --compare`)."
        )
    if any(p.standing == "tied" for p in places):
        return f"Resolving {gap_text} at {basis} would take about {how_many}."
    return None


def _sentences(places: list[Place]) -> list[str]:
    by = {s: [p for p in places if p.standing == s] for s in ("best", "tied", "behind")}
    sentences = []
    repeats = min((len(_rps(p.summary)) for p in by["best"] + by["tied"]), default=0)
    if not by["best"]:
        sentences.append("No strategy here is healthy and answers every request.")
    elif repeats < 2:
        names = ", ".join(p.strategy for p in by["best"] + by["tied"] + by["behind"])
        sentences.append(f"Healthy, answering every request: {names}.")
    elif by["tied"]:
        names = ", ".join(_median_text(p) for p in by["best"] + by["tied"])
        detail = "; ".join(f"{p.strategy}: {_ratio_text(p)}" for p in by["tied"])
        sentences.append(
            f"Use any of {names}: they are tied, their throughput differs by less than the "
            f"noise ({detail})."
        )
    elif by["behind"]:
        sentences.append(
            f"Use {_median_text(by['best'][0])}: healthy, and faster than every other "
            "healthy strategy beyond the noise."
        )
    else:
        sentences.append(
            f"Use {_median_text(by['best'][0])}: the only strategy here that is healthy "
            "and answers every request."
        )
    if repeats >= 2:
        sentences += [f"{p.strategy} is slower ({_ratio_text(p)})." for p in by["behind"]]
    for standing, verb in (("caution", "Use with care"), ("avoid", "Avoid")):
        named = [p for p in places if p.standing == standing]
        if named:
            sentences.append(
                f"{verb}: " + "; ".join(f"{p.strategy} ({p.reason})" for p in named) + "."
            )
    advice = _repeats_advice(places)
    if advice:
        sentences.append(advice)
    return sentences


def _group_key(summary: CellSummary) -> tuple[str, str, str]:
    config = summary.config
    return (config.database, config.pool.name, load_figures.scenario_label(config))


def recommend(summaries: list[CellSummary]) -> list[Group]:
    groups = []
    for (database, pool, scenario), members in groupby(
        sorted(summaries, key=_group_key), key=_group_key
    ):
        cells = list(members)
        unfit = [place for s in cells if (place := _unfit(s)) is not None]
        unfit_ids = {p.summary.id for p in unfit}
        candidates = [s for s in cells if s.id not in unfit_ids and _rps(s)]
        places = (_compare(candidates) if candidates else []) + sorted(
            unfit, key=lambda p: (p.standing == "avoid", p.summary.verdict == Verdict.ERROR)
        )
        groups.append(Group(database, pool, scenario, places, _sentences(places)))
    return groups


TIERS = {"best": "1", "tied": "1", "behind": "2", "caution": "-", "avoid": "-"}


def tiers(groups: list[Group]) -> dict[str, str]:
    """Cell id -> its tier for a ranking table: 1 for the best and those tied with it,
    2 for those behind it beyond the noise, - for those not to use."""
    return {p.summary.id: TIERS[p.standing] for group in groups for p in group.places}
