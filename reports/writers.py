"""The report writers behind `sessionbench report --format`: each turns a run into text.

A writer is anything with a `render(result) -> str`; the registry maps the format names
the CLI accepts to writers and the file suffix each one's output gets.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sessionbench.results import RunResult

from . import html, junit, markdown, terminal


@dataclass(frozen=True)
class Writer:
    name: str
    suffix: str
    render: Callable[[RunResult], str]


WRITERS: dict[str, Writer] = {
    w.name: w
    for w in [
        Writer("html", ".html", html.render),
        Writer("md", ".md", markdown.render),
        Writer("junit", ".xml", junit.render),
        Writer("terminal", ".txt", terminal.render),
    ]
}
