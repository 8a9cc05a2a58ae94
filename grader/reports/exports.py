"""Exports of a gradebook: Gradescope results, per-student feedback (the Canvas CSV is
:mod:`grader.reports.canvas`).

Everything here reads the gradebook only (no course folder, no grading).  Hidden cases
stay hidden unless ``show_hidden`` (after the deadline): without it feedback says how many
hidden cases failed, never which or how.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.gradebook import Gradebook, ItemRow, RosterEntry, SubmissionRow, iter_students
from grader.batch.roster import is_test_student
from grader.batch.rows import counted
from grader.errors import UsageError
from grader.policy.lateness import Final
from grader.policy.words import for_student, submission_score
from grader.reports.page import markdown_to_html, page
from grader.reports.render import points
from grader.reports.student import student_action, student_message

MAX_MESSAGES = 5


@dataclass
class ItemInfo:
    id: str
    title: str
    max_score: float


@dataclass
class StudentGrade:
    """A student as the exports see them: roster data, and the submission they count for."""

    entry: RosterEntry
    on_roster: bool
    status: str                         # graded | error | no submission
    submission: SubmissionRow | None
    keys: list[str] = field(default_factory=list)
    late: Final | None = None           # the course's rules applied (None: no course.toml)

    @property
    def score(self) -> float:
        """The final score: the raw score after the late policy, where there is one."""
        if self.late is not None:
            return self.late.final
        return self.submission.score if self.submission is not None else 0.0

    def item(self, item_id: str) -> ItemRow | None:
        if self.submission is None:
            return None
        return next((i for i in self.submission.items if i.item == item_id), None)


@dataclass
class ExportData:
    assignment: str
    items: list[ItemInfo]
    submissions: list[SubmissionRow]
    students: list[StudentGrade]

    @property
    def max_score(self) -> float:
        return round(sum(i.max_score for i in self.items), 6)


def load(book: Gradebook, assignment: str) -> ExportData:
    """What the last ``grade batch`` of ``assignment`` left in the gradebook."""
    subs = book.submissions(assignment)
    if not subs:
        known = book.assignments()
        hint = f" (it has: {', '.join(known)})" if known else ""
        raise UsageError(f"no grades for {assignment} in {book.path}{hint}: run "
                         f"`grade batch {assignment} SUBMISSIONS` first")
    items: dict[str, ItemInfo] = {}
    for s in subs:
        for it in s.items:
            items.setdefault(it.item, ItemInfo(it.item, it.title, it.max_score))
    by_key = {s.submission: s for s in subs}
    roster_ids = {e.id for e in book.roster(assignment)}
    students = []
    for entry, keys in iter_students(book, assignment):
        sub = counted([by_key[k] for k in keys if k in by_key])
        status = sub.status if sub is not None else "no submission"
        students.append(StudentGrade(entry, entry.id in roster_ids, status, sub, keys))
    _finals(book, assignment, students)
    return ExportData(assignment, list(items.values()), subs, students)


def _finals(book: Gradebook, assignment: str, students: list[StudentGrade]) -> None:
    """Attach each student's stored final (``grade late`` and ``grade batch`` write them)."""
    from grader.policy.finals import final_of, finals

    stored = finals(book, assignment)
    for st in students:
        st.late = final_of(stored, st.entry.id, st.submission)


def _safe(name: str) -> str:
    """A file-name-safe form of a student id or submission key."""
    s = re.sub(r"[^\w.@+-]", "_", name).strip("._") or "student"
    return s[:120]


# =========================================================================== files


def _parent(path: Path) -> None:
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: {path.parent} does not exist")


def _outdir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file: give a folder")
    if not path.parent.exists():
        raise UsageError(f"cannot create {path}: {path.parent} does not exist")
    path.mkdir(exist_ok=True)


# =========================================================================== feedback text


@dataclass
class Fix:
    """What to fix in one item: messages (with details) and the hidden cases' summary."""

    item: ItemRow
    messages: list[tuple[str, str]]     # (message, details)
    more: int                           # further failing messages not shown
    hidden_failed: int                  # hidden cases failed but not described
    hidden_total: int
    hidden_by_status: dict[str, int] = field(default_factory=dict)   # of those not described


def fixes(sub: SubmissionRow, *, show_hidden: bool = False) -> list[Fix]:
    """Per item not at full marks: the distinct failing messages, public cases first."""
    out = []
    for it in sub.items:
        if it.score >= it.max_score - 1e-9 and it.status == "passed":
            continue
        failing = [c for c in it.cases if not c.get("passed")]
        public = [c for c in failing if c.get("visibility") == "public"]
        hidden = [c for c in failing if c.get("visibility") != "public"]
        shown: list[tuple[str, str]] = []
        seen: set[str] = set()
        for c in public + (hidden if show_hidden else []):
            msg = str(c.get("message", ""))
            if msg in seen:
                continue
            seen.add(msg)
            shown.append((msg, str(c.get("details", "")) if c in public else ""))
        if not it.cases and it.feedback:
            shown.append((it.feedback, ""))
        left = [] if show_hidden else [c for c in hidden if str(c.get("message")) not in seen]
        by_status: dict[str, int] = {}
        for c in left:
            st = "not run" if c.get("check") == "not run" else str(c.get("status") or "failed")
            by_status[st] = by_status.get(st, 0) + 1
        out.append(Fix(it, shown[:MAX_MESSAGES], max(0, len(shown) - MAX_MESSAGES),
                       len(left), sum(c.get("visibility") != "public" for c in it.cases),
                       by_status))
    return out


# What became of hidden cases, by their status: a time-out is not a wrong answer, and the
# cases after a time-out (or after the process ended twice) never ran at all.
_HIDDEN_OUTCOME = {"failed": "failed", "timeout": "did not finish in time",
                   "error": "raised an error or ended the process",
                   "not run": "not run (after a time-out or a crash on an earlier case)",
                   "missing": "found the function not implemented"}


def _hidden_line(fx: Fix) -> str:
    by_status = fx.hidden_by_status or {"failed": fx.hidden_failed}
    parts = [f"{n} {_HIDDEN_OUTCOME.get(st, st)}" for st, n in by_status.items()]
    total = fx.hidden_total
    return (f"of {total} hidden case{'s' * (total != 1)}: {', '.join(parts)}; "
            "their details are released after the deadline")


def fix_text(fx: Fix, details: bool = True, width: int = 3000) -> str:
    """Plain text of one item's fixes (Gradescope's test output)."""
    lines = []
    for msg, det in fx.messages:
        lines.append(f"- {msg}")
        if details and det:
            lines += ["    " + ln for ln in det[:width].splitlines()]
    if fx.more:
        lines.append(f"- ... and {fx.more} more")
    if fx.hidden_failed:
        lines.append(f"- {_hidden_line(fx)}")
    return "\n".join(lines)


# =========================================================================== Gradescope


def gradescope_results(sub: SubmissionRow, *, show_hidden: bool = False,
                       late: list[Final] | None = None) -> dict[str, Any]:
    """One submission in Gradescope's autograder ``results.json`` format: top-level
    ``score``, ``execution_time`` (seconds), ``output``, and ``tests`` with ``name``,
    ``score``, ``max_score``, ``status``, ``output``, ``visibility``."""
    by_item = {fx.item.item: fx for fx in fixes(sub, show_hidden=show_hidden)}
    tests = []
    for n, it in enumerate(sub.items, start=1):
        fx = by_item.get(it.item)
        if sub.status == "error":
            output = student_message(sub)
        elif fx is None:
            output = "All cases pass."
        else:
            output = fix_text(fx)
        tests.append({"name": f"{it.item}: {it.title}" if it.title else it.item,
                      "number": str(n),
                      "score": round(it.score, 6), "max_score": round(it.max_score, 6),
                      "status": "passed" if it.status == "passed" else "failed",
                      "output": output, "visibility": "visible"})
    head = [student_message(sub)] if sub.status == "error" else []
    head += [f"note: {n}" for n in sub.notes]
    score, why = submission_score(sub.score, late or [])
    return {"score": round(score, 6), "execution_time": math.ceil(sub.seconds),
            "output": "\n".join(why + head), "tests": tests}


def write_gradescope(data: ExportData, folder: Path, *, show_hidden: bool = False) -> int:
    """``folder/KEY/results.json`` for every submission."""
    _outdir(folder)
    for sub in data.submissions:
        d = folder / _safe(sub.submission)
        d.mkdir(exist_ok=True)
        late = [st.late for st in data.students if st.late is not None
                and st.late.submission == sub.submission]
        (d / "results.json").write_text(
            json.dumps(gradescope_results(sub, show_hidden=show_hidden, late=late),
                       indent=2) + "\n",
            encoding="utf-8")
    return len(data.submissions)


# =========================================================================== feedback files


def feedback_markdown(data: ExportData, st: StudentGrade, *, show_hidden: bool = False) -> str:
    e = st.entry
    who = f"{e.name} ({e.id})" if e.name else e.id
    out = [f"# {data.assignment}: feedback for {who}", ""]
    sub = st.submission
    if sub is None:
        out += [f"**Score: 0 / {points(data.max_score)}**", "",
                (f"No submission of {data.assignment} was found for you. If you did "
                 "submit, tell your TA."), ""]
        return "\n".join(out)
    out += [f"**Score: {points(st.score)} / {points(sub.max_score)}**", ""]
    if st.late is not None and (why := for_student(st.late)):
        out += [f"Raw score {points(sub.score)}; {why}.", ""]
    others = [m for m in sub.members if m != e.id]
    out.append(("Graded: " if sub.status == "graded" else "Received: ")
               + f"`{sub.file or sub.submission}`"
               + (f" (a group submission with {', '.join(others)})" if others else "")
               + f", assignment version {sub.version}.")
    out.append("")
    if sub.status == "error":
        out += ["## Your submission could not be graded", "", student_message(sub), "",
                student_action(sub), ""]
    out += ["| item | points | status |", "|---|---:|---|"]
    for it in sub.items:
        out.append(f"| {it.item} | {points(it.score)}/{points(it.max_score)} | "
                   f"{it.status} |")
    out.append("")
    if sub.status != "error":
        fx_list = fixes(sub, show_hidden=show_hidden)
        if fx_list:
            out += ["## What to fix", ""]
        for fx in fx_list:
            it = fx.item
            out += [(f"### {it.item}: {it.title} "
                     f"({points(it.score)}/{points(it.max_score)}, {it.status})"), ""]
            for msg, det in fx.messages:
                out.append(f"- {msg}")
                if det:
                    out += ["", "  ```", *["  " + ln for ln in det[:3000].splitlines()],
                            "  ```"]
            if fx.more:
                out.append(f"- ... and {fx.more} more")
            if fx.hidden_failed:
                out.append(f"- {_hidden_line(fx)}")
            out.append("")
        if not fx_list:
            out += ["Every item passes: full marks.", ""]
    if sub.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in sub.notes] + [""]
    return "\n".join(out)


def feedback_html(data: ExportData, st: StudentGrade, *, show_hidden: bool = False) -> str:
    """The same content as :func:`feedback_markdown`, as a self-contained HTML page."""
    md = feedback_markdown(data, st, show_hidden=show_hidden)
    return page(f"{data.assignment}: {st.entry.id}", markdown_to_html(md))


def write_feedback(data: ExportData, folder: Path, *, fmt: str = "md",
                   show_hidden: bool = False) -> int:
    """``folder/STUDENT.md`` (or ``.html``) for every student, with or without a submission."""
    _outdir(folder)
    used: set[str] = set()
    written = 0
    for st in data.students:
        if is_test_student(st.entry):   # Canvas's student view: no one reads it
            continue
        written += 1
        name = _safe(st.entry.id)
        while name in used:
            name += "_"
        used.add(name)
        if fmt == "html":
            text = feedback_html(data, st, show_hidden=show_hidden)
        else:
            text = feedback_markdown(data, st, show_hidden=show_hidden)
        (folder / f"{name}.{fmt}").write_text(text, encoding="utf-8")
    return written
