"""The recommendation as the first section of every report: terminal, Markdown, HTML.

Each writer calls one function here at its top; the sentences are the same everywhere,
so what a team pastes into a design review does not depend on the format it read.
"""

from collections.abc import Callable

from rich.console import Group as RichGroup
from rich.text import Text

from .recommendation import Group, Place

STANDING_LABEL = {
    "best": "fastest healthy",
    "tied": "tied with the fastest",
    "behind": "slower beyond the noise",
    "caution": "use with care",
    "avoid": "avoid",
}


def _figure(place: Place) -> str:
    if place.ratio is None:
        median = place.summary.median("rps")
        return "" if median is None else f"{median:,.0f} req/s"
    r = place.ratio
    return f"x{r.estimate:.2f} ({r.confidence:.0%} CI {r.low:.2f} to {r.high:.2f})"


def terminal(groups: list[Group]) -> RichGroup:
    lines = [Text("recommendation", style="bold underline")]
    for group in groups:
        lines.append(Text(group.title, style="bold"))
        lines += [Text(f"  {sentence}") for sentence in group.sentences]
    return RichGroup(*lines)


def markdown(groups: list[Group], escape: Callable[[object], str]) -> list[str]:
    lines = ["### Recommendation", ""]
    for group in groups:
        lines += [f"**{escape(group.title)}**: " + " ".join(escape(s) for s in group.sentences), ""]
    return lines


def html_rows(groups: list[Group]) -> list[dict[str, object]]:
    """Plain data for the HTML template, which escapes it."""
    return [
        {
            "title": group.title,
            "sentences": group.sentences,
            "places": [
                {"strategy": p.strategy, "standing": STANDING_LABEL[p.standing],
                 "figure": _figure(p), "reason": p.reason}
                for p in group.places
            ],
        }
        for group in groups
    ]  # fmt: skip
