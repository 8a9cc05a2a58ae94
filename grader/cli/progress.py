"""``grade batch``'s progress bar: done / total, a rate and an ETA that mean something.

The rate counts the submissions graded in this run (not those the gradebook already had,
which go by in an instant) over the time since grading started, and is shown only once
it rests on something: two graded submissions and two seconds.  Before that the bar says
``–`` rather than a rate of a million per second and an ETA of one second.
"""

from __future__ import annotations

import time
from typing import Any, Callable

MIN_GRADED = 2
MIN_SECONDS = 2.0


class RateMeter:
    """Submissions per second and the time left, from the run's ticks."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.graded = 0

    def tick(self, status: str) -> None:
        if status not in ("unchanged", "starting"):
            self.graded += 1

    def text(self, done: int, total: int) -> tuple[str, str]:
        """(rate, eta) as shown on the bar."""
        elapsed = self.clock() - self.start
        if self.graded < MIN_GRADED or elapsed < MIN_SECONDS:
            return "– /s", "ETA –"
        rate = self.graded / elapsed
        left = max(0, total - done) / rate
        return f"{rate:.1f}/s", f"ETA {int(left // 60)}:{int(left % 60):02d}"


def progress_display(quiet: bool) -> tuple[Any, Any]:
    """A rich progress bar on stderr (a terminal only) and the callback that drives it."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                   TextColumn("{task.fields[eta]}"), TextColumn("{task.fields[last]}"),
                   console=console, transient=False)
    state: dict[str, Any] = {"task": None, "meter": RateMeter()}

    def update(p: Any) -> None:
        meter: RateMeter = state["meter"]
        meter.tick(p.status)
        rate, eta = meter.text(p.done, p.total)
        last = f"{p.key}: {p.status}"[:40] if p.key else ""
        if state["task"] is None:
            state["task"] = bar.add_task("grading", total=p.total, rate=rate, eta=eta,
                                         last=last)
        bar.update(state["task"], completed=p.done, rate=rate, eta=eta, last=last)

    return bar, update
