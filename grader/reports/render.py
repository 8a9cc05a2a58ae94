"""Show a result on a terminal: a table per item, the total, then what to fix."""

from __future__ import annotations

import re
from typing import IO

from grader.judge.loading import caret_lines
from grader.judge.tables import DIFF_MARK
from grader.result import Result, points

DIFFERING = re.compile(rf"^.*{re.escape(DIFF_MARK)}$", re.M)
STYLE = {"passed": "green", "partial": "yellow", "failed": "red", "error": "red",
         "timeout": "magenta", "missing": "dim"}


def _indented(text: str, prefix: str = "  | ", lines: int = 20, width: int = 76) -> str:
    """Printed output for a terminal: each line behind ``prefix``, at most ``lines`` of
    them, each cut to ``width`` characters (the full text is in ``--json``)."""
    rows = text.rstrip("\n").splitlines()
    out = [prefix + (r if len(r) <= width else r[:width - 1] + "…") for r in rows[:lines]]
    if len(rows) > lines:
        out.append(f"{prefix}[... {len(rows) - lines} more lines; --json has them]")
    return "\n".join(out)


def render(result: Result, file: IO[str] | None = None, details: bool = True,
           max_details: int = 6) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=False)
    if result.load_error:
        console.print(Text(f"error: {result.load_error}", style="bold red"), soft_wrap=True)
        for line in caret_lines(result.load_source, result.load_column):
            console.print(Text(line))
    # the title on a line of its own: a table's title is padded to the table's width
    console.print(Text(f"{result.assignment}: {result.submission}", style="bold"))
    table = Table(expand=False)
    table.add_column("item")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("feedback", overflow="fold", max_width=90)
    for it in result.items:
        table.add_row(it.id, f"{points(it.score)}/{points(it.max_score)}",
                      Text(it.status, style=STYLE.get(it.status, "")),
                      Text(it.feedback.splitlines()[0] if it.feedback else ""))
    console.print(table)
    scope = "" if result.mode == "full" else " (public cases only)"
    console.print(Text(f"Total: {points(result.score)}/{points(result.max_score)}{scope}",
                       style="bold"))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if result.output:
        console.print(Text("printed while your file was imported:", style="bold"))
        console.print(Text(_indented(result.output)))
    if not details:
        return
    shown = 0
    for it in result.items:
        for c in it.cases:
            if (c.passed or c.visibility != "public" or not (c.details or c.output)
                    or shown >= max_details):
                continue
            shown += 1
            console.print()
            console.print(Text(f"{it.id} / {c.name}", style="bold"))
            console.print(Text(c.message))
            console.print(Text(f'to reproduce: grade {result.assignment} --show-case '
                               f'"{it.id} / {c.name}"', style="dim"), soft_wrap=True)
            if c.details:
                text = Text(c.details)
                text.highlight_regex(DIFFERING, "bold red")  # colour only on a terminal
                console.print(text)
            if c.output:
                console.print(Text("printed during this case:", style="bold"))
                console.print(Text(_indented(c.output)))
