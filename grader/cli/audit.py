"""``grade audit``: a thin layer over :func:`grader.audit.run.audit`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.common import course_option, handles_errors
from grader.errors import UsageError

EPILOG = """\b
Examples:
  grade audit hw1                          table per item, survivors as one-line diffs
  grade audit hw1 --fail-under 100         exit 1 if a non-equivalent mutant survives
  grade audit hw1 --json > audit.json      every mutant and its verdict
  grade audit hw1 --html audit.html        a page with every diff
"""

CACHE = Path(".grade-audit.sqlite")   # grader.audit.gate.CACHE_FILE; no import at start-up


def _progress() -> object:
    if not sys.stderr.isatty():
        return None
    state: dict[str, object] = {}

    def tick(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label="grading mutants", file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(1)  # type: ignore[attr-defined]
        if done == total:
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]

    return tick


@click.command("audit", epilog=EPILOG)
@click.argument("assignment")
@course_option
@click.option("--workers", type=int, help="Grading processes (default: the number of cores).")
@click.option("--cache", "cache", type=click.Path(dir_okay=False, path_type=Path),
              help=f"The verdicts' SQLite file (default: {CACHE} in the course folder).")
@click.option("--no-cache", is_flag=True, help="Grade every mutant again; keep nothing.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Exit 1 when the mutation score is below PERCENT, or a mutant costs "
                   "points on another item than its own (collateral).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as a self-contained HTML page.")
@click.option("--show-equivalent", is_flag=True, help="List the declared equivalents too.")
@click.option("--time-scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Multiply every per-call time limit (slow machines).")
@handles_errors
def audit(assignment: str, course: Path | None, workers: int | None, cache: Path | None,
          no_cache: bool, fail_under: float | None, as_json: bool, html_path: Path | None,
          show_equivalent: bool, time_scale: float) -> None:
    """Mutation analysis: which one-change mistakes in ASSIGNMENT's reference go unnoticed?

    Every mutant of the graded function bodies (and every slip declared in
    solutions/ASSIGNMENT_mutants.py) is graded by the real grader; a mutant is killed
    when it loses points on its own item. Equivalent mutants are declared in the same
    file, each with a one-line reason.
    """
    from grader.audit.gate import gate_failures
    from grader.audit.render import render_html, render_json, render_text
    from grader.audit.run import audit as run_audit
    from grader.course.files import find_root

    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    root = find_root(course)
    path = None if no_cache else (cache or root / CACHE)
    rep = run_audit(assignment, root, workers=workers, cache=path, time_scale=time_scale,
                    progress=_progress())  # type: ignore[arg-type]
    if as_json:
        click.echo(render_json(rep))
    else:
        render_text(rep, sys.stdout, show_equivalent=show_equivalent)
    if html_path is not None:
        html_path.write_text(render_html(rep), encoding="utf-8")
        click.echo(f"wrote {html_path}", err=as_json)
    if fail_under is not None:
        problems = gate_failures(rep, fail_under)
        for p in problems:
            click.echo(f"FAIL {p}", err=True)
        if problems:
            sys.exit(1)
