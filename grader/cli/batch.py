"""``grade batch``, ``grade export`` and ``grade report``: the TA's commands.

Thin click layers over :mod:`grader.batch` and :mod:`grader.reports`; imported only
when one of them runs (see ``LAZY_COMMANDS`` in :mod:`grader.cli.main`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.common import course_option, handles_errors
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
  grade export hw1 --csv grades.csv --total-only --column "Homework 1 (123456)"
  grade export hw1 --gradescope results/             results/KEY/results.json
  grade export hw1 --feedback feedback/ --format html
  grade export hw1 --feedback feedback/ --show-hidden   after the deadline
"""

EPILOG_REPORT = """\b
Example:
  grade report hw1 --out report.html
"""


def _progress_display(quiet: bool) -> tuple[Any, Any]:
    """A rich progress bar on stderr (a terminal only) and the callback that drives it."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[last]}"),
                   console=console, transient=False)
    state: dict[str, Any] = {"task": None, "t0": None}

    def update(p: Any) -> None:
        import time

        if state["task"] is None:
            state["task"] = bar.add_task("grading", total=p.total, rate="", last="")
            state["t0"] = time.perf_counter()
        elapsed = max(time.perf_counter() - state["t0"], 1e-6)
        bar.update(state["task"], completed=p.done, rate=f"{p.done / elapsed:.1f}/s",
                   last=f"{p.key}: {p.status}"[:40])

    return bar, update


def _lines(title: str, entries: list[str], limit: int = 30) -> None:
    if not entries:
        return
    click.echo(f"{title} ({len(entries)}):")
    for e in entries[:limit]:
        click.echo(f"  {e}")
    if len(entries) > limit:
        click.echo(f"  ... and {len(entries) - limit} more (see `grade report`)")


@click.command("batch", epilog=EPILOG_BATCH)
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--layout", default="auto", show_default=True,
              metavar="auto|folder|canvas|gradescope",
              help="How SUBMISSIONS is organised (detected by default).")
@click.option("--roster", type=click.Path(path_type=Path),
              help="CSV of the class (id,name,email): who has no submission, which files "
                   "match nobody.")
@click.option("--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="The gradebook file.")
@click.option("--workers", type=int, help="Grading processes (default: the number of cores).")
@click.option("--force", is_flag=True, help="Grade again what the gradebook already holds.")
@click.option("--max-group", type=int, default=3, show_default=True,
              help="The largest group allowed to submit together.")
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
          workers: int | None, force: bool, max_group: int, timeout: float, time_scale: float,
          cluster: str | None, course: Path | None, quiet: bool) -> None:
    """Grade every submission in SUBMISSIONS for ASSIGNMENT into a gradebook.

    SUBMISSIONS is a folder with one file or sub-folder per student (named by the student
    id; a group.txt of ids in a sub-folder makes a group), a Canvas bulk download, or a
    Gradescope export.  Only what changed since the last run is graded (by content hash and
    assignment version); an interrupted run resumes where it stopped.
    """
    from grader.batch.run import BatchRun

    if layout not in ("auto", "folder", "canvas", "gradescope"):
        raise UsageError(f"unknown layout {layout!r}: use auto, folder, canvas or gradescope")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    if max_group < 1:
        raise UsageError("--max-group must be at least 1")
    bar, update = _progress_display(quiet)
    run = BatchRun(assignment, submissions, course=course, db=db, roster=roster,
                   layout=None if layout == "auto" else layout, workers=workers, force=force,
                   time_scale=time_scale, timeout=timeout, max_group=max_group,
                   progress=update, cluster=cluster)
    if bar is not None:
        with bar:
            s = run.run()
    else:
        s = run.run()
    click.echo(f"{s.assignment}: {s.found} submission{'s' * (s.found != 1)} "
               f"({s.layout} layout) in {s.db}")
    click.echo(f"  graded {s.graded}, unchanged {s.unchanged}, identical to another "
               f"{s.copied}, errors {len(s.errors)}")
    _lines("errors", s.errors)
    _lines("notes", s.notes)
    _lines("no submission", s.no_submission)
    _lines("not on the roster", s.unmatched)
    _lines("ignored (not a submission)", s.ignored)
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
@click.option("--total-only", is_flag=True, help="CSV: the total only, no column per item.")
@click.option("--column", help="CSV: the total's column name (e.g. Canvas's 'HW 1 (123456)').")
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
@handles_errors
def export(assignment: str, db: Path, csv_path: Path | None, total_only: bool,
           column: str | None, status: bool, gradescope: Path | None, feedback: Path | None,
           fmt: str, show_hidden: bool) -> None:
    """Export ASSIGNMENT's grades from the gradebook: LMS CSV, Gradescope, feedback."""
    from grader.batch.gradebook import Gradebook
    from grader.reports import exports

    if not (csv_path or gradescope or feedback):
        raise UsageError("nothing to export: give --csv FILE, --gradescope DIR or "
                         "--feedback DIR")
    if fmt not in ("md", "html"):
        raise UsageError(f"unknown format {fmt!r}: use md or html")
    with Gradebook(db, create=False) as book:
        data = exports.load(book, assignment)
        if csv_path:
            n = exports.write_csv(data, csv_path, items=not total_only, column=column,
                                  status=status)
            click.echo(f"wrote {csv_path}: {n} students")
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
