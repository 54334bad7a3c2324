"""Counting events by where they happened: the request's route and the app's line.

Routes are templates and an app has a bounded set of lines, so the set of sites is
small; a cap keeps a pathological app (a 404 per random path) from growing it.
"""

from collections.abc import Iterable

from sessionbench.reading import Site

MAX_SITES = 64
OTHER_SITES = (None, "(further sites not itemised)")

SiteKey = tuple[str | None, str | None]  # (route, app location)


class SiteTally:
    def __init__(self) -> None:
        self.counts: dict[SiteKey, int] = {}

    def add(self, key: SiteKey, n: int = 1) -> None:
        if key not in self.counts and len(self.counts) >= MAX_SITES:
            key = OTHER_SITES
        count = self.counts.get(key, 0) + n
        if count > 0:
            self.counts[key] = count
        else:
            self.counts.pop(key, None)

    def snapshot(self) -> list[Site]:
        return sites_of(self.counts.items())


def sites_of(counts: Iterable[tuple[SiteKey, int]]) -> list[Site]:
    """Most frequent first."""
    return [
        Site(route=route, location=location, count=count)
        for (route, location), count in sorted(counts, key=lambda kv: -kv[1])
    ]


def tally(keys: Iterable[SiteKey]) -> list[Site]:
    counts = SiteTally()
    for key in keys:
        counts.add(key)
    return counts.snapshot()
