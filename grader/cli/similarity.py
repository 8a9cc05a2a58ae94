"""``grade similarity``: the academic-honesty check, a thin layer over
:mod:`grader.similarity`."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import course_option, echo_list, handles_errors, layout_option
from grader.errors import UsageError
from grader.similarity.fingerprints import DEFAULT_K, DEFAULT_W
from grader.similarity.run import DEFAULT_COMMON, DEFAULT_MIN_TOKENS, DEFAULT_THRESHOLD

EPILOG = """\b
Examples:
  grade similarity hw1 submissions/                       ranked pairs in the terminal
  grade similarity hw1 canvas_download/ --roster roster.csv --html similarity.html
  grade similarity hw1 submissions/ --reference --csv pairs.csv
  grade similarity hw1 submissions/ --threshold 0.4 --common 0.1
"""


@click.command("similarity", epilog=EPILOG)
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@layout_option
@click.option("--roster", type=click.Path(path_type=Path),
              help="CSV of the class (id,name,email), to give members their roster ids.")
@click.option("--db", type=click.Path(path_type=Path), default="gradebook.sqlite",
              show_default=True, help="The gradebook file the results are kept in.")
@click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
              help="Flag pairs at least this similar (share of both files' own code shared).")
@click.option("--common", type=float, default=DEFAULT_COMMON, show_default=True,
              help="Drop fragments found in more than this share of the class (idiom).")
@click.option("--min-tokens", type=int, default=DEFAULT_MIN_TOKENS, show_default=True,
              help="Flag only pairs sharing at least this many tokens (about 3 lines).")
@click.option("--reference", is_flag=True,
              help="Add solutions/ASSIGNMENT.py as a source (copies of a leaked solution).")
@click.option("--starter", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
              help="More given code to subtract (repeatable); the stub always is.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every compared pair to this CSV file.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML report with the flagged pairs side by side.")
@click.option("--top", type=int, default=20, show_default=True,
              help="Rows of the table (the flagged pairs are always shown).")
@click.option("-k", "k", type=int, default=DEFAULT_K, show_default=True,
              help="Tokens per fingerprint (shorter: finds smaller fragments, more noise).")
@click.option("-w", "w", type=int, default=DEFAULT_W, show_default=True, help="Winnowing window.")
@click.option("--max-group", type=int, default=3, show_default=True,
              help="The largest group allowed to submit together.")
@click.option("--workers", type=int, help="Processes that read the files (default: cores).")
@course_option
@handles_errors
def similarity(assignment: str, submissions: Path, layout: str, roster: Path | None, db: Path,
               threshold: float, common: float, min_tokens: int, reference: bool,
               starter: tuple[Path, ...],
               csv_path: Path | None, html_path: Path | None, top: int, k: int, w: int,
               max_group: int, workers: int | None, course: Path | None) -> None:
    """Find the pairs of submissions in SUBMISSIONS that share code beyond ASSIGNMENT's
    starter code.

    Tokens from Python's tokenize (names and literals normalised, comments ignored),
    winnowed k-gram fingerprints and an index over the whole class; the starter code and
    fragments common to much of the class are left out, and members of one group are
    never compared.  Nothing leaves this machine.  Results are kept in the gradebook: a
    re-run reads again only files that changed.
    """
    from grader.course.files import find_root
    from grader.similarity import Settings, check

    if layout not in ("auto", "folder", "canvas", "gradescope"):
        raise UsageError(f"unknown layout {layout!r}: use auto, folder, canvas or gradescope")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    if max_group < 1 or top < 0:
        raise UsageError("--max-group must be at least 1 and --top at least 0")
    settings = Settings(k=k, w=w, threshold=threshold, common=common, min_tokens=min_tokens,
                        workers=workers)
    r = check(assignment, submissions, root=find_root(course), db=db, settings=settings,
              layout=None if layout == "auto" else layout, roster=roster,
              max_group=max_group, reference=reference, starter=starter)
    from grader.similarity.table import summary_lines, table_lines, write_csv

    for line in summary_lines(r) + table_lines(r, top):
        click.echo(line)
    echo_list("skipped", [f"{s.key}: {s.message}" for s in r.skipped], 20)
    echo_list("not on the roster", r.unmatched, 20)
    echo_list("ignored (not a submission)", r.ignored, 20)
    if csv_path:
        n = write_csv(r, csv_path)
        click.echo(f"wrote {csv_path}: {n} pairs")
    if html_path:
        from grader.similarity.html import write_html

        write_html(r, html_path, top=top)
        click.echo(f"wrote {html_path}")
    click.echo(f"took {r.seconds:.1f} s; kept in {db}")
