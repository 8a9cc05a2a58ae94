"""The ``grade`` command: a thin click layer over :mod:`grader.api`.

Imports stay inside the commands so that ``grade hw1`` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.common import course_option, handles_errors
from grader.cli.names import LAZY_COMMANDS
from grader.errors import GraderError

EPILOG_GRADE = """\b
Examples:
  grade hw1                                  grade exercises/hw1.py of this course
  grade hw1 --submission my_hw1.ipynb        grade a notebook
  grade hw1 --item sigmoid --item loss       grade two items only
  grade hw1 --json > result.json             machine-readable result
  grade hw1 --strict                         exit 1 unless full marks
  grade hw1 --show-case "sigmoid on an array"  a public case as Python to paste
  grade hw1 --watch                          grade again on every save
  grade hw1 --html result.html               also a page plotting your paths and curves
"""


IMPLICIT_RUN = "grader.implicit_run"   # ctx.meta: `grade ASSIGNMENT` was typed, not `grade run`


class RunCommand(click.Command):
    """``grade run ASSIGNMENT``, typed as ``grade ASSIGNMENT``: then its usage line is
    ``grade hw1 [OPTIONS]`` (the assignment is part of the command's name)."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if ctx.info_name != "run":
            pieces = [p for p in pieces if p != "ASSIGNMENT"]
        return pieces


class GradeGroup(click.Group):
    """``grade ASSIGNMENT ...`` is ``grade run ASSIGNMENT ...``: the name is not a command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy()))

    def _lazy(self) -> dict[str, str]:
        import importlib.util

        out = {}
        for name, target in LAZY_COMMANDS.items():
            if importlib.util.find_spec(target.split(":")[0]) is not None:
                out[name] = target
        return out

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is not None or name not in LAZY_COMMANDS:
            return cmd
        import importlib

        module, attr = LAZY_COMMANDS[name].split(":")
        try:
            found = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError:
            return None
        return found if isinstance(found, click.Command) else None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands \
                and args[0] not in self._lazy():
            ctx.meta[IMPLICIT_RUN] = True
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """``grade hw1 ...`` runs as ``grade hw1``, not ``grade run``: its usage line, help
        and errors name the command the user typed."""
        name, cmd, rest = super().resolve_command(ctx, args)
        if name == "run" and ctx.meta.get(IMPLICIT_RUN) and rest:
            return rest[0], cmd, rest
        return name, cmd, rest

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("grade", "ASSIGNMENT [OPTIONS] | COMMAND [ARGS]...")


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EPILOG_GRADE)
@click.version_option(package_name="course-grader")
def main() -> None:
    """Grade course exercises: `grade ASSIGNMENT` grades your work on it.

    The grader runs your code in a separate, confined process and judges what it
    returns from outside, against public and (for instructors) hidden cases.
    """


@main.command("run", cls=RunCommand, epilog=EPILOG_GRADE)
@click.argument("assignment")
@click.option("--submission", "-s", type=click.Path(dir_okay=False, path_type=Path),
              help="The .py file or .ipynb notebook to grade (default: exercises/ASSIGNMENT.py).")
@click.option("--item", "items", multiple=True, metavar="ID",
              help="Grade only this item (repeatable); `grade list` names them.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--strict", is_flag=True, help="Exit 1 unless the submission gets full marks.")
@click.option("--public-only", is_flag=True, help="Run only the public cases, as students do.")
@course_option
@click.option("--brief", is_flag=True, help="Only the table and the total, no details.")
@click.option("--verbose", "-v", is_flag=True,
              help="Say which isolation layers confine the submission (see `grade doctor`).")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Also append the result as markdown to this file (CI: $GITHUB_STEP_SUMMARY).")
@click.option("--show-case", metavar="NAME",
              help="Print a public case as Python to paste and run (grades nothing).")
@click.option("--watch", is_flag=True,
              help="Grade again on every save of the submission, changed items first.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as one self-contained HTML page, with plots "
                   "(paths, and training curves: extra runs of your code).")
@handles_errors
def run(assignment: str, submission: Path | None, items: tuple[str, ...], as_json: bool,
        strict: bool, public_only: bool, course: Path | None, brief: bool,
        verbose: bool, summary: Path | None, show_case: str | None, watch: bool,
        html_out: Path | None) -> None:
    """Grade a submission for ASSIGNMENT and show the score of every item."""
    if show_case is not None:
        from grader.reports.snippet import show_case as snippet

        click.echo(snippet(assignment, show_case, course), nl=False)
        return
    if watch:
        from grader.watch import watch_command

        watch_command(assignment, submission, course, public_only)
        return
    if verbose:
        import os

        os.environ["GRADER_VERBOSE"] = "1"
    from grader.api import grade

    try:
        result = grade(submission, assignment, course=course, items=list(items) or None,
                       public_only=public_only, curves=html_out is not None)
    except GraderError as e:
        if summary is not None:
            from grader.reports.markdown import error_markdown, write_summary

            write_summary(summary, error_markdown(assignment, str(e)))
        raise
    if as_json:
        click.echo(result.dumps())
    else:
        from grader.reports.render import render

        render(result, details=not brief)
        from grader.policy.workflow import deadline_note

        if note := deadline_note(course, assignment):
            click.echo(note)
    if summary is not None:  # after the output: a summary that cannot be written loses nothing
        from grader.reports.markdown import render_markdown, write_summary

        write_summary(summary, render_markdown(result))
    if html_out is not None:  # after the output too
        from grader.reports.html import write_page

        write_page(result, html_out)
    if strict and not result.full_marks:
        sys.exit(1)


@main.command("list")
@course_option
@handles_errors
def list_(course: Path | None) -> None:
    """List the assignments of this course and their items with points.

    \b
    Example:
      grade list
    """
    from grader.course.folder import available, find_root, load

    root = find_root(course)
    names = available(root)
    if not names:
        raise GraderError(f"no assignments in {root / 'exercises'}: run `grade assign NAME`")
    for name in names:
        a = load(name, root, public_only=True)
        total = sum(i.points for i in a.items)
        click.echo(f"{name} ({total:g} points)")
        for it in a.items:
            click.echo(f"  {it.id:<18} {it.points:>5g}  {it.title}")


@main.command("assign")
@click.argument("assignment")
@course_option
@handles_errors
def assign_cmd(assignment: str, course: Path | None) -> None:
    """Regenerate ASSIGNMENT's stubs, notebook and public cases from solutions/.

    \b
    Example:
      grade assign hw1
    """
    from grader.authoring.assign import assign
    from grader.course.files import find_root

    root = find_root(course)
    written = assign(root, assignment)
    for p in written:
        click.echo(f"wrote {p.relative_to(root)}")
    if not written:
        click.echo("up to date: nothing changed")


if __name__ == "__main__":
    main()
