"""``grade batch``, ``grade export`` and ``grade report``: the TA's commands.

Thin click layers over :mod:`grader.batch` and :mod:`grader.reports`; imported only
when one of them runs (see ``LAZY_COMMANDS`` in :mod:`grader.cli.main`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.common import course_option, echo_list, handles_errors, layout_option
from grader.errors import UsageError

DEFAULT_DB = "gradebook.sqlite"

EPILOG_BATCH = """\b
Examples:
  grade batch hw1 submissions/                       one file or folder per student
  grade batch hw1 canvas_download/ --roster roster.csv
  grade batch hw1 gradescope_export/ --workers 4 --db hw1.sqlite
  grade batch hw1 submissions/ --force               grade everything again
  grade batch hw1 submissions/ --cluster tcp://scheduler:8786   on Dask workers
"""

EPILOG_EXPORT = """\b
Examples:
  grade export hw1 --csv grades.csv                  Canvas gradebook import
  grade export hw1 --csv grades.csv --column "Homework 1 (123456)"
  grade export hw1 --csv grades.csv --items          a column per item too
  grade export hw1 --gradescope results/             results/KEY/results.json
  grade export hw1 --feedback feedback/ --format html
  grade export hw1 --feedback feedback/ --show-hidden   after the deadline
"""

EPILOG_REPORT = """\b
Example:
  grade report hw1 --out report.html
"""


def _lines(title: str, entries: list[str], limit: int = 30) -> None:
    echo_list(title, entries, limit, more=" (see `grade report`)")


def _interrupted(s: Any) -> None:
    """Ctrl-C: what is saved, and that the same command picks up from there."""
    saved = (s.graded + s.copied) if s is not None else 0
    click.echo(f"interrupted: {saved} submission{'s' * (saved != 1)} graded in this run "
               "and saved in the gradebook; run the same command again to grade the rest "
               "(what is saved is not graded again)", err=True)
    sys.exit(130)


def _shared(s: Any) -> None:
    if s.shared_with:
        pids = ", ".join(str(p) for p in s.shared_with)
        click.echo(f"  another grade batch was running on this gradebook (pid {pids}): this "
                   "run graded what that one had not started, and took "
                   f"{s.left_to_other} submission{'s' * (s.left_to_other != 1)} it graded")


def _gradebook_lines(s: Any) -> None:
    """The class as the gradebook has it now: the counts the report and exports show."""
    from grader.batch.gradebook import Gradebook
    from grader.reports import exports
    from grader.reports.counts import counts, who

    if not s.found:
        return
    with Gradebook(s.db, create=False) as book:
        data = exports.load(book, s.assignment)
    c = counts(data)
    click.echo(f"  gradebook: {c.graded} graded, {c.errors} could not be graded (score 0), "
               f"{c.identical} identical to another")
    _lines("could not be graded", [f"{x.submission}: {x.message}" for x in data.submissions
                                   if x.status != "graded"])
    _lines("identical content", [", ".join(g) for g in c.identical_groups])
    _lines("no submission", [who(st) for st in c.no_submission])


@click.command("batch", epilog=EPILOG_BATCH)
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@layout_option
@click.option("--roster", type=click.Path(path_type=Path),
              help="CSV of the class (id,name,email): who has no submission, which files "
                   "match nobody.")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="The gradebook file.")
@click.option("--workers", type=int, help="Grading processes (default: the number of cores).")
@click.option("--force", is_flag=True, help="Grade again what the gradebook already holds.")
@click.option("--max-group", type=int, default=None,
              help="The largest group allowed to submit together (default: course.toml's "
                   "max_group, else 3).")
@click.option("--times", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of id,submitted_at for the late policy (see `grade late`).")
@click.option("--mtime", is_flag=True,
              help="Late policy: a file's modification time where nothing gives a time.")
@click.option("--timeout", type=float, default=600.0, show_default=True,
              help="Seconds one submission may take in all before it is stopped.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Multiply every per-call time limit (slow machines).")
@click.option("--cluster", metavar="tcp://HOST:8786|local:N",
              help="Grade on a Dask cluster: a scheduler's address, or local:N workers here "
                   "(needs pip install 'course-grader[cluster]').")
@course_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handles_errors
def batch(assignment: str, submissions: Path, layout: str, roster: Path | None, db: Path,
          workers: int | None, force: bool, max_group: int | None, times: Path | None,
          mtime: bool, timeout: float, time_scale: float, cluster: str | None,
          course: Path | None, quiet: bool) -> None:
    """Grade every submission in SUBMISSIONS for ASSIGNMENT into a gradebook.

    SUBMISSIONS is a folder with one file or sub-folder per student (named by the student
    id; a group.txt of ids in a sub-folder makes a group), a Canvas bulk download, or a
    Gradescope export.  Only what changed since the last run is graded (by content hash and
    assignment version); an interrupted run resumes where it stopped.
    """
    from grader.batch.run import BatchRun
    from grader.policy.workflow import after_batch, before_batch

    if layout not in ("auto", "folder", "canvas", "gradescope"):
        raise UsageError(f"unknown layout {layout!r}: use auto, folder, canvas or gradescope")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    max_group = before_batch(course, max_group, times)
    if max_group < 1:
        raise UsageError("--max-group must be at least 1")
    from grader.cli.progress import progress_display

    bar, update = progress_display(quiet)
    run = BatchRun(assignment, submissions, course=course, db=db, roster=roster,
                   layout=None if layout == "auto" else layout, workers=workers, force=force,
                   time_scale=time_scale, timeout=timeout, max_group=max_group,
                   progress=update, cluster=cluster)
    try:
        if bar is not None:
            with bar:
                s = run.run()
        else:
            s = run.run()
    except KeyboardInterrupt:
        _interrupted(getattr(run, "summary", None))
    click.echo(f"{s.assignment}: {s.found} submission{'s' * (s.found != 1)} "
               f"({s.layout} layout) in {s.db}")
    click.echo(f"  this run: graded {s.graded}, unchanged {s.unchanged}, taken from "
               f"identical content {s.copied}")
    _shared(s)
    _gradebook_lines(s)
    _lines("notes", s.notes)
    _lines("not on the roster", s.unmatched)
    _lines("ignored (not a submission)", s.ignored)
    for line in after_batch(s.assignment, s.db, submissions, times, course, mtime=mtime):
        click.echo(line)
    rate = s.graded / s.seconds if s.seconds > 0 else 0.0
    click.echo(f"took {s.seconds:.1f} s ({rate:.1f} submissions/s graded); next: "
               f"grade export {s.assignment} --csv grades.csv"
               + (f" --db {s.db}" if str(s.db) != DEFAULT_DB else ""))


@click.command("export", epilog=EPILOG_EXPORT)
@click.argument("assignment")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="The gradebook file.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a row per student (Canvas gradebook import format).")
@click.option("--items", is_flag=True,
              help="CSV: a column per item too (Canvas makes each a new assignment).")
@click.option("--total-only", is_flag=True, hidden=True,
              help="CSV: the total only (the default).")
@click.option("--column", help="CSV: the total's column name (e.g. Canvas's 'HW 1 (123456)').")
@click.option("--login", default="auto", show_default=True, metavar="auto|email|id",
              help="CSV: what fills SIS Login ID where the roster has no sis_login_id "
                   "column: the roster's email, or its id.")
@click.option("--status", is_flag=True,
              help="CSV: add Status and Message columns (for you; leave off for Canvas).")
@click.option("--gradescope", type=click.Path(file_okay=False, path_type=Path),
              help="Write DIR/SUBMISSION/results.json in Gradescope's autograder format.")
@click.option("--feedback", type=click.Path(file_okay=False, path_type=Path),
              help="Write a feedback file per student into DIR.")
@click.option("--format", "fmt", default="md", show_default=True, metavar="md|html",
              help="Feedback files as Markdown or HTML.")
@click.option("--show-hidden", is_flag=True,
              help="Include hidden cases' details (after the deadline).")
@course_option
@handles_errors
def export(assignment: str, db: Path, csv_path: Path | None, items: bool, total_only: bool,
           column: str | None, login: str, status: bool, gradescope: Path | None,
           feedback: Path | None, fmt: str, show_hidden: bool, course: Path | None) -> None:
    """Export ASSIGNMENT's grades from the gradebook: LMS CSV, Gradescope, feedback."""
    from grader.batch.gradebook import Gradebook
    from grader.reports import exports

    if not (csv_path or gradescope or feedback):
        raise UsageError("nothing to export: give --csv FILE, --gradescope DIR or "
                         "--feedback DIR")
    if fmt not in ("md", "html"):
        raise UsageError(f"unknown format {fmt!r}: use md or html")
    with Gradebook(db, create=False) as book:
        from grader.policy.workflow import refresh

        for line in refresh(book, assignment, course):
            click.echo(line)
        data = exports.load(book, assignment)
        if csv_path:
            from grader.reports.canvas import write_canvas_csv

            if items and total_only:
                raise UsageError("--items and --total-only contradict each other: give one")
            done = write_canvas_csv(data, csv_path, items=items, column=column,
                                    status=status, login=login)
            click.echo(f"wrote {csv_path}: {done.rows} students")
            for line in done.lines():
                click.echo(f"  {line}")
        if gradescope:
            n = exports.write_gradescope(data, gradescope, show_hidden=show_hidden)
            click.echo(f"wrote {n} results.json files under {gradescope}")
        if feedback:
            n = exports.write_feedback(data, feedback, fmt=fmt, show_hidden=show_hidden)
            click.echo(f"wrote {n} feedback files under {feedback}")


@click.command("report", epilog=EPILOG_REPORT)
@click.argument("assignment")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="The gradebook file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write (default: ASSIGNMENT-report.html).")
@handles_errors
def report(assignment: str, db: Path, out: Path | None) -> None:
    """Write one self-contained HTML page on ASSIGNMENT for the TA (opens offline).

    Score histogram, per-item mean and pass rate, the most common diagnoses per item,
    errors and timeouts, the slowest submissions.
    """
    from grader.batch.gradebook import Gradebook
    from grader.reports import exports
    from grader.reports.report import write_report

    out = out or Path(f"{assignment}-report.html")
    with Gradebook(db, create=False) as book:
        data = exports.load(book, assignment)
        write_report(data, out)
    click.echo(f"wrote {out}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(batch())
