"""A :class:`~grader.result.Result` as GitHub-flavoured markdown (a CI job's summary).

The per-item table, the total, notes, then the failing public cases' details.  It reads
the result's fields only.  Everything that can come from a submission (feedback, error
text, returned values) is escaped: in table cells and prose, markdown punctuation and
HTML are neutralised; details go in a code fence longer than any backtick run inside.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from grader.errors import UsageError
from grader.reports.render import points
from grader.result import Result

_MD_PUNCT = re.compile(r"([\\`*_\[\]|~])")   # what makes emphasis, code, links, cells


def escape(text: str) -> str:
    """One line of submission text, safe in a markdown table cell or paragraph."""
    one = " ".join(text.split())
    return _MD_PUNCT.sub(r"\\\1", html.escape(one, quote=False))


def _fence(text: str) -> str:
    runs = [len(m) for m in re.findall(r"`+", text)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return f"{ticks}text\n{text}\n{ticks}"



def render_markdown(result: Result, *, details: bool = True, max_details: int = 6,
                    width: int = 3000) -> str:
    """The result as markdown: a heading with the score, a table row per item, notes, and
    (with ``details``) up to ``max_details`` failing public cases with their details."""
    scope = "" if result.mode == "full" else " (public cases only)"
    out = [f"### {escape(result.assignment)}: {points(result.score)}/"
           f"{points(result.max_score)}{scope}", "",
           f"Graded {escape(result.submission)}, assignment version "
           f"{escape(result.version)}.", "",
           "| item | points | status | feedback |", "|---|---:|---|---|"]
    for it in result.items:
        first = it.feedback.splitlines()[0] if it.feedback else ""
        out.append(f"| {escape(it.id)} | {points(it.score)}/{points(it.max_score)} | "
                   f"{escape(it.status)} | {escape(first[:300])} |")
    out.append("")
    out += [f"- note: {escape(n.text)}" for n in result.notes] + ([""] if result.notes else [])
    failing = [(it.id, c) for it in result.items for c in it.cases
               if not c.passed and c.visibility == "public"]
    if details and failing:
        out += [f"<details><summary>What to fix: {len(failing)} failing public case"
                f"{'s' * (len(failing) != 1)}</summary>", ""]
        for item_id, c in failing[:max_details]:
            out += [f"**{escape(item_id)} / {escape(c.name)}**: {escape(c.message)}", ""]
            if c.details:
                out += [_fence(c.details[:width]), ""]
        if len(failing) > max_details:
            out += [f"... and {len(failing) - max_details} more", ""]
        out += ["</details>", ""]
    return "\n".join(out) + "\n"


def error_markdown(assignment: str, message: str) -> str:
    """What a summary says when nothing could be graded: the one-line error."""
    return f"### {escape(assignment)}: not graded\n\n{escape(message)}\n"


def write_summary(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` (a job summary collects every step's)."""
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as e:
        raise UsageError(f"cannot write the summary to {path}: {e.strerror}") from None


__all__ = ["error_markdown", "escape", "render_markdown", "write_summary"]
