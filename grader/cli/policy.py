"""``grade late`` and ``grade course``: the course's rules applied to the gradebook.

Thin click layers over :mod:`grader.policy`; imported only when one of them runs (see
``LAZY_COMMANDS`` in :mod:`grader.cli.main`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.batch import DEFAULT_DB
from grader.cli.common import course_option, handles_errors
from grader.errors import UsageError

if TYPE_CHECKING:
    from grader.policy.config import Course
    from grader.policy.standings import ClassGrades
    from grader.policy.workflow import Standing


EPILOG_LATE = """\b
Examples:
  grade late hw1                             who was late, slip days, penalties
  grade late hw1 --times canvas_times.csv    times from an LMS export (id,submitted_at)
  grade late hw1 --submissions gradescope_export/   read the times again
  grade late hw1 --all                       every student, on time too
"""

EPILOG_COURSE = """\b
Examples:
  grade course                               a table of every student's course grade
  grade course --student alice               every number behind alice's grade
  grade course --csv course.csv --html course.html
  grade course --db hw1.sqlite --db hw2.sqlite --import project=project.csv
"""


def _course(course: Path | None) -> Course:
    from grader.policy.workflow import course_at

    c = course_at(course)
    if c is None:
        raise UsageError("this course has no course.toml: write one (see the README's "
                         "\"The course\" section)")
    return c


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


@click.command("late", epilog=EPILOG_LATE)
@click.argument("assignment")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="The gradebook file.")
@click.option("--times", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of id,submitted_at (a submission key or a student id; times with "
                   "their UTC offset).")
@click.option("--submissions", type=click.Path(file_okay=False, path_type=Path),
              help="Read the times from this submissions folder again.")
@click.option("--mtime", is_flag=True,
              help="With --submissions: a file's modification time where nothing else "
                   "gives one.")
@click.option("--all", "show_all", is_flag=True, help="List every student, not the late only.")
@click.option("--json", "as_json", is_flag=True,
              help="Print every student's final and what changed as one JSON object.")
@course_option
@handles_errors
def late(assignment: str, db: Path, times: Path | None, submissions: Path | None,
         mtime: bool, show_all: bool, as_json: bool, course: Path | None) -> None:
    """Apply course.toml's late policy to ASSIGNMENT's grades and list the late work.

    Recomputes every final score from the raw scores, the submission times, the
    extensions and the slip days (no grading again), says what changed, then lists who
    was late, by how much, slip days used and left, and the penalty.
    """
    from grader.batch.gradebook import Gradebook
    from grader.policy.workflow import record, standing

    c = _course(course)
    with Gradebook(db, create=False) as book:
        if assignment not in book.assignments():
            raise UsageError(f"no grades for {assignment} in {db}: run `grade batch "
                             f"{assignment} SUBMISSIONS` first")
        if times is not None or submissions is not None:
            n = record(book, assignment, submissions, times, mtime=mtime)
            if not as_json:
                click.echo(f"{assignment}: {n} submissions have a time")
        st = standing(book, c, assignment)
    if as_json:
        click.echo(json.dumps({"assignment": assignment, "finals": [vars(f) for f in st.finals],
                               "changed": [c.student for c in st.changes]}, indent=1))
    else:
        _print_late(st, c, show_all)


def _print_late(st: Standing, c: Course, show_all: bool) -> None:
    """``grade late``'s text: what changed, the table, who has no time."""
    from grader.policy.lateness import NEEDS_TIME
    from grader.policy.workflow import late_row

    click.echo(f"{st.assignment}: finals recomputed from {c.path.name}: "
               f"{len(st.changes)} changed")
    for ch in st.changes:
        click.echo(f"  {ch.line()}")
    shown = st.finals if show_all else st.late()
    click.echo(f"{'students' if show_all else 'after the deadline'} ({len(shown)}):")
    if shown:
        head = ["student", "status", "late by", "extension", "slip used", "slip left",
                "penalty", "raw", "final"]
        for line in _aligned([head, *(late_row(f) for f in shown)]):
            click.echo(f"  {line}")
    untimed = st.untimed()
    if untimed and not show_all:
        click.echo(f"without a time ({len(untimed)}), counted on time: "
                   + ", ".join(f.student + (" (marked late by the LMS)" if f.status ==
                                            NEEDS_TIME else "") for f in untimed))


@click.command("course", epilog=EPILOG_COURSE)
@click.option("--db", "dbs", type=click.Path(path_type=Path), multiple=True,
              help=f"A gradebook (repeatable; default: {DEFAULT_DB}).")
@click.option("--student", help="Show every number behind this student's grade.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Canvas gradebook import of the course grade.")
@click.option("--column", default="Course grade", show_default=True,
              help="CSV: the grade's column name.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a page with the distribution of grades and of each component.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="The class list (default: course.toml's, else the gradebooks').")
@click.option("--import", "imports", multiple=True, metavar="NAME=FILE",
              help="Read import NAME from FILE instead of the file course.toml names.")
@click.option("--json", "as_json", is_flag=True,
              help="Print every student's grade with its whole breakdown as JSON.")
@course_option
@handles_errors
def course_cmd(dbs: tuple[Path, ...], student: str | None, csv_path: Path | None,
               column: str, html_path: Path | None, roster: Path | None,
               imports: tuple[str, ...], as_json: bool, course: Path | None) -> None:
    """The weighted course grade of every student, from course.toml's components.

    Homework comes from the gradebooks' final scores (late policy applied), the rest from
    the CSV imports course.toml names.  Missing is 0 unless excused; drop-lowest applies.
    """
    from dataclasses import asdict

    from grader.reports.course_grades import breakdown, write_csv, write_html

    cg = _class_grades(_course(course), dbs, roster, imports)
    for line in cg.changes:
        click.echo(f"recomputed: {line}", err=True)
    if student is not None:
        g = cg.of(student)
        click.echo(json.dumps(asdict(g), indent=1) if as_json else "\n".join(breakdown(g)))
        return
    if as_json:
        click.echo(json.dumps({"students": [asdict(g) for g in cg.grades],
                               "not_on_roster": cg.not_on_roster, "no_entry": cg.no_entry},
                              indent=1))
    else:
        _print_course(cg)
    if csv_path is not None:
        n = write_csv(cg, csv_path, column)
        click.echo(f"wrote {csv_path}: {n} students", err=as_json)
    if html_path is not None:
        write_html(cg, html_path)
        click.echo(f"wrote {html_path}", err=as_json)


def _class_grades(c: Course, dbs: tuple[Path, ...], roster: Path | None,
                  imports: tuple[str, ...]) -> ClassGrades:
    """The class's grades from the gradebooks given (or ./gradebook.sqlite, if any)."""
    from grader.batch.gradebook import Gradebook
    from grader.policy.standings import class_grades

    overrides = {}
    for spec in imports:
        name, sep, file = spec.partition("=")
        if not sep or name not in c.imports:
            raise UsageError(f"--import {spec!r}: give NAME=FILE with NAME one of "
                             f"{', '.join(c.imports)}")
        overrides[name] = Path(file)
    paths = list(dbs)
    if not paths and Path(DEFAULT_DB).exists():
        paths = [Path(DEFAULT_DB)]
    elif not paths:
        click.echo(f"no {DEFAULT_DB} here: every assignment counts as not graded (give --db)",
                   err=True)
    books = [Gradebook(p, create=False) for p in paths]
    try:
        return class_grades(c, books, roster=roster, overrides=overrides)
    finally:
        for b in books:
            b.close()


def _print_course(cg: ClassGrades) -> None:
    from grader.reports.course_grades import table

    for line in table(cg):
        click.echo(line)
    for title, found in (("not on the roster", cg.not_on_roster),
                         ("on the roster with no entry", cg.no_entry)):
        for source, ids in found.items():
            click.echo(f"{title} in {source} ({len(ids)}): {', '.join(ids)}")
