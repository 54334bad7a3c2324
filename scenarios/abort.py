"""The client-disconnect fault of a scenario: `abort = { share = 0.2, after_ms = 30 }`.

That share of the requests is abandoned by its client `after_ms` after it was sent:
the client closes its connection, as a user who closes the tab or a caller whose own
timeout fired.  What the server does then is the app's business: Starlette cancels a
`StreamingResponse` whose client hung up, and some apps cancel every such request.
"""

from dataclasses import dataclass


class AbortFieldError(ValueError):
    """A bad `abort` table; the message names the field (the caller adds the scenario)."""


@dataclass(frozen=True)
class Abort:
    share: float  # of the requests, chosen at random, in (0, 1]
    after_ms: int  # from sending the request to closing the connection


def parse_abort(value: object) -> Abort:
    if not isinstance(value, dict) or set(value) != {"share", "after_ms"}:
        raise AbortFieldError("'abort' must be a table with exactly 'share' and 'after_ms'")
    share, after_ms = value["share"], value["after_ms"]
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise AbortFieldError("'abort.share' must be a fraction of the requests in (0, 1]")
    if isinstance(after_ms, bool) or not isinstance(after_ms, int) or after_ms < 1:
        raise AbortFieldError("'abort.after_ms' must be a positive integer (milliseconds)")
    return Abort(share=float(share), after_ms=after_ms)
