"""``grade gradescope``: build Gradescope's autograder zip (a thin layer over
:mod:`grader.gradescope.bundle`)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import course_option, handles_errors

VISIBILITY = click.Choice(["hidden", "after_due_date", "after_published", "visible"])


@click.command("gradescope")
@click.argument("assignment")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("autograder.zip"), show_default=True,
              help="Where the autograder zip goes.")
@click.option("--per-case", is_flag=True,
              help="One Gradescope test per case instead of one per item.")
@click.option("--hidden-visibility", type=VISIBILITY, default="after_published",
              show_default=True, help="When students see what hidden cases said.")
@click.option("--visibility", type=VISIBILITY, default=None,
              help="When students see the whole result (default: Gradescope's setting).")
@click.option("--stdout-visibility", type=VISIBILITY, default="hidden", show_default=True,
              help="When students see the autograder's log (the isolation layers, a table).")
@click.option("--no-pin", is_flag=True,
              help="Install the engine's version ranges, not the versions installed here.")
@click.option("--python", "python", metavar="3.X",
              help="The Python setup.sh installs (default: the one running this).")
@course_option
@handles_errors
def gradescope(assignment: str, out: Path, per_case: bool, hidden_visibility: str,
               visibility: str | None, stdout_visibility: str, no_pin: bool,
               python: str | None, course: Path | None) -> None:
    """Build the autograder zip that Gradescope runs for ASSIGNMENT.

    Upload it under the assignment's Configure Autograder page (Zip file upload).
    It holds the grader as a wheel, the course's exercises, solutions and data, a
    setup.sh and a run_autograder; each submission gets one test per item (or per
    case), hidden cases' details shown after grades are published.

    \b
    Example:
      grade gradescope hw1 --out autograder.zip
      grade gradescope hw1 --out autograder.zip --per-case
    """
    from grader.course.files import find_root
    from grader.gradescope.bundle import build
    from grader.gradescope.results import Options

    root = find_root(course)
    opts = Options(per_case=per_case, hidden_visibility=hidden_visibility,
                   visibility=visibility, stdout_visibility=stdout_visibility)
    info = build(root, assignment, out, opts, pin=not no_pin, python=python)
    layout = "case" if per_case else "item"
    click.echo(f"wrote {out}: {len(info['members'])} files, one test per {layout}, "
               f"Python {info['python']}, dependencies {'pinned' if info['pinned'] else 'ranges'}")
