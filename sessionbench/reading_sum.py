"""Several target worker processes' readings as one: the cell's reading under
`run --target-workers N`, so every rule that reads counters keeps working.

Counters, totals and histograms add up (checkouts, connections, leaks, stalls, requests
in flight); a maximum or a percentile is the worst worker's (a sum of maxima never
happened at once); sites of the same route and line merge their counts.  Written over
the model's fields, so a field added to `ProbeReading` is summed without a change here.
"""

from typing import Any, TypeVar

from pydantic import BaseModel

from .reading import ProbeReading, Site

Model = TypeVar("Model", bound=BaseModel)

# Fields that are the worst worker's, not a sum: maxima, percentiles, shares, uptime.
_WORST = ("max", "p50", "p99", "share", "uptime")


def _worst(name: str) -> bool:
    return any(part in name for part in _WORST)


def _merge_sites(sites: list[Site]) -> list[Site]:
    merged: dict[tuple[str | None, str | None], int] = {}
    for site in sites:
        key = (site.route, site.location)
        merged[key] = merged.get(key, 0) + site.count
    return [Site(route=r, location=loc, count=n) for (r, loc), n in merged.items()]


def _combine(name: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if isinstance(first, bool):
        return all(present)
    if isinstance(first, int | float):
        return max(present) if _worst(name) else sum(present)
    if isinstance(first, BaseModel):
        return _sum_models(present)
    if isinstance(first, dict):
        keys = {k for value in present for k in value}
        return {k: _combine(name, [v[k] for v in present if k in v]) for k in sorted(keys)}
    if isinstance(first, list):
        items = [item for value in present for item in value]
        return _merge_sites(items) if items and isinstance(items[0], Site) else items
    return first


def _sum_models(models: list[Model]) -> Model:
    cls = type(models[0])
    return cls.model_validate(
        {name: _combine(name, [getattr(m, name) for m in models]) for name in cls.model_fields}
    )


def sum_readings(readings: list[ProbeReading]) -> ProbeReading:
    """The readings of a target's worker processes as one reading (one: itself)."""
    if not readings:
        raise ValueError("no readings to sum")
    if len(readings) == 1:
        return readings[0]
    return _sum_models(readings)
