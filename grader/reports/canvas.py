"""The Canvas gradebook CSV: rows Canvas's "Import" matches to its students.

Canvas matches an imported row to a student by the ``ID`` column (its own user id), else
``SIS User ID``, else ``SIS Login ID``; the ``Student`` name is shown but never matched.
So each column is filled only with what it really is: ``ID`` from a Canvas gradebook
export used as the roster or from a Canvas download's file names; the SIS columns from a
roster that has them (``SIS User ID`` also from a Gradescope export's SID); and
``SIS Login ID`` from the roster's email (or its id, with ``login="id"``) where the
roster has no login column: many schools log in by email.
Every column Canvas does not know becomes a new assignment on import, so by default the
total goes into one named column; per-item columns are on request.  Students not on the
roster and Canvas's own test student get no row (Canvas would match no one, or a test
account), and are listed for the TA.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.roster import is_test_student
from grader.errors import UsageError
from grader.reports.counts import who
from grader.reports.exports import ExportData, StudentGrade, _parent
from grader.reports.render import points

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"   # Canvas's own export writes this second row so
LOGIN_SOURCES = ("auto", "email", "id")


@dataclass
class CanvasCsv:
    """What was written, and what Canvas will match each row on."""

    rows: int = 0
    matched_on: dict[str, int] = field(default_factory=dict)   # column -> rows
    unmatchable: list[str] = field(default_factory=list)        # rows with no id at all
    left_out: list[str] = field(default_factory=list)           # not on the roster
    test_student: bool = False
    login_from: str = ""      # where SIS Login IDs came from when not from the roster

    def lines(self) -> list[str]:
        """The TA's summary: which column Canvas matches on, and who is not in the file."""
        on = ", ".join(f"{col} ({n} row{'s' * (n != 1)})" for col, n in self.matched_on.items())
        out = [f"Canvas matches the rows on {on or 'nothing'}"]
        if self.login_from:
            out.append(f"SIS Login ID is the roster's {self.login_from} (no sis_login_id "
                       "column): if logins at your school are not that, give a roster with "
                       "sis_login_id" + (" or pass --login id" if self.login_from != "id"
                                         else ""))
        if self.unmatchable:
            out.append(f"no ID, SIS User ID or SIS Login ID, so Canvas will not match "
                       f"{len(self.unmatchable)}: {', '.join(self.unmatchable[:10])} "
                       "(give a roster with an email or sis_login_id column)")
        if self.left_out:
            out.append(f"left out {len(self.left_out)} not on the roster: "
                       f"{', '.join(self.left_out[:10])}"
                       + (" ..." if len(self.left_out) > 10 else ""))
        if self.test_student:
            out.append("left out Canvas's test student")
        return out


def identity(st: StudentGrade, login: str = "auto") -> list[str]:
    """Student, ID, SIS User ID, SIS Login ID, Section of one student, as Canvas reads them."""
    e = st.entry
    canvas_id = e.extra.get("canvas_id", "")
    sub = st.submission
    if not canvas_id and sub is not None and sub.layout == "canvas" and sub.submission.isdigit():
        canvas_id = sub.submission   # a Canvas download is keyed by the Canvas user id
    sis_user = e.extra.get("sis_user_id", "")
    if not sis_user and not st.on_roster and sub is not None and sub.layout == "gradescope" \
            and "@" not in e.id:
        sis_user = e.id   # Gradescope's SID: the school's student id
    sis_login = e.extra.get("sis_login_id", "")
    if not sis_login and not canvas_id:
        sis_login = e.id if login == "id" else (e.email or (e.id if login == "auto"
                                                            and "@" in e.id else ""))
    return [e.name or e.id, canvas_id, sis_user, sis_login, e.extra.get("section", "")]


def write_canvas_csv(data: ExportData, path: Path, *, items: bool = False,
                     column: str | None = None, status: bool = False,
                     login: str = "auto") -> CanvasCsv:
    """Write the CSV: the identity columns, the items' columns with ``items``, the total
    (``column``, default the assignment's name), Status and Message with ``status`` (for
    the TA's own use: Canvas would take them for assignments).  The second row gives the
    points possible, as in Canvas's own export.  Students with no submission get 0."""
    if login not in LOGIN_SOURCES:
        raise UsageError(f"unknown --login {login!r}: use {', '.join(LOGIN_SOURCES)}")
    total = column or data.assignment
    header = list(CANVAS_COLUMNS)
    if items:
        header += [f"{data.assignment}: {i.id}" for i in data.items]
    header.append(total)
    if status:
        header += ["Status", "Message"]
    if len(set(header)) != len(header):
        raise UsageError(f"--column {total!r} repeats another column's name")
    rows = [header, [POINTS_POSSIBLE, "", "", "", ""]
            + ([points(i.max_score) for i in data.items] if items else [])
            + [points(data.max_score)] + (["", ""] if status else [])]
    out = CanvasCsv()
    roster = any(st.on_roster for st in data.students)
    for st in data.students:
        if is_test_student(st.entry):
            out.test_student = True
            continue
        if roster and not st.on_roster:
            out.left_out.append(who(st))
            continue
        row = identity(st, login)
        col = next((c for c, v in zip(CANVAS_COLUMNS[1:4], row[1:4]) if v), None)
        if col is None:
            out.unmatchable.append(who(st))
        else:
            out.matched_on[col] = out.matched_on.get(col, 0) + 1
        if col == "SIS Login ID" and not st.entry.extra.get("sis_login_id"):
            out.login_from = "id" if row[3] == st.entry.id else "email"
        if items:
            for i in data.items:
                it = st.item(i.id)
                row.append(points(it.score if it is not None else 0.0))
        row.append(points(st.score))
        if status:
            row += [st.status, st.submission.message if st.submission is not None else ""]
        rows.append(row)
    _parent(path)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    out.rows = len(rows) - 2
    return out
