"""Code locations as people read them, and whose code a frame is.

A frame prints relative to where its module was imported from: installed code as
`sqlalchemy/orm/session.py:2351`, sessionbench's own as `sessionbench/targets/...`, an
app's files relative to its import root; never as an absolute path of the machine that
ran it.  A frame is the app's when it is neither the standard library nor an installed
library; sessionbench's targets are apps (they are what is measured), its probes not.
"""

import sys
import sysconfig
from functools import lru_cache
from pathlib import Path
from types import FrameType

_LIBRARY_ROOTS = tuple(
    sorted(
        {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")},
        key=len,
        reverse=True,
    )
)
# Deep enough to reach the app's frame from an event handler under the ORM, the pool
# and the driver.
APP_FRAME_DEPTH = 120
_PROBES = str(Path(__file__).resolve().parent)
_TARGETS = str(Path(__file__).resolve().parents[1])  # sessionbench's targets, wherever installed


@lru_cache(maxsize=4096)
def is_app_file(filename: str) -> bool:
    if filename.startswith(_PROBES):  # the probes' wrappers measure, they do not block
        return False
    if filename.startswith(_TARGETS):
        return True
    # "<frozen importlib...>", "<sqlalchemy generated ...>": library code without a file.
    return not filename.startswith(("<", *_LIBRARY_ROOTS))


@lru_cache(maxsize=4096)
def relative(filename: str) -> str:
    """`filename` relative to the root it was imported from."""
    if filename.startswith(_TARGETS):
        return "sessionbench/targets" + filename[len(_TARGETS) :]
    roots = [*_LIBRARY_ROOTS, *(p for p in sys.path if p)]
    for root in sorted(roots, key=len, reverse=True):
        prefix = root.rstrip("/") + "/"
        if filename.startswith(prefix):
            return filename[len(prefix) :].removeprefix("site-packages/")
    return Path(filename).name if filename.startswith("/") else filename


def frame_location(frame: FrameType) -> str:
    return f"{relative(frame.f_code.co_filename)}:{frame.f_lineno} in {frame.f_code.co_name}"


def format_stack(frame: FrameType | None, depth: int) -> tuple[list[str], int | None]:
    """The innermost `depth` frames, outermost first, and the index of the innermost one
    that is the app's own code (None: no app code on the stack)."""
    frames: list[FrameType] = []
    while frame is not None and len(frames) < depth:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    app_frame = next(
        (i for i in range(len(frames) - 1, -1, -1) if is_app_file(frames[i].f_code.co_filename)),
        None,
    )
    return [frame_location(f) for f in frames], app_frame


def innermost_app_frame(
    frame: FrameType | None, depth: int, until: str | None = None
) -> str | None:
    """The innermost frame of the app's code within `depth` frames, cheaply; None once
    a library function named `until` is passed on the way."""
    for _ in range(depth):
        if frame is None:
            return None
        code = frame.f_code
        if is_app_file(code.co_filename):
            return frame_location(frame)
        if code.co_name == until:
            return None
        frame = frame.f_back
    return None


def _greenlet_parent_frame() -> FrameType | None:
    """Where the task that started this greenlet waits: an AsyncSession runs its sync
    work in a greenlet whose own stack ends at SQLAlchemy's entry point, so the app's
    `await session.execute(...)` is on the parent's stack."""
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return None
    parent = greenlet.getcurrent().parent
    frame: FrameType | None = parent.gr_frame if parent is not None else None
    return frame


# Where an awaiting coroutine hands the greenlet a function of the app's own: the app's
# innermost line then runs inside the greenlet.
_HANDED_OVER = "run_sync"


def app_location_here(depth: int) -> str | None:
    """The app's innermost frame around the calling code (the probes' event handlers),
    following an AsyncSession's greenlet back to the app's coroutine.

    In a greenlet the awaiting coroutine's stack is looked at first: the app's line is
    a few frames up there, where the greenlet's own ~20 frames are SQLAlchemy's and each
    frame walked costs a frame object (the probes' largest cost per request)."""
    awaiting = _greenlet_parent_frame()
    found = innermost_app_frame(awaiting, depth, until=_HANDED_OVER)
    if found is None:
        found = innermost_app_frame(sys._getframe(1), depth)
    return found if found is not None else innermost_app_frame(awaiting, depth)
