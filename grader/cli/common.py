"""What every ``grade`` command shares: the one-line error convention and common options."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import click

from grader.errors import GraderError

course_option = click.option(
    "--course", type=click.Path(file_okay=False, path_type=Path),
    help="The course folder (default: found from the current folder).")


layout_option = click.option(
    "--layout", default="auto", show_default=True, metavar="auto|folder|canvas|gradescope",
    help="How SUBMISSIONS is organised (detected by default).")


def echo_list(title: str, entries: list[str], limit: int = 30, more: str = "") -> None:
    """A titled, counted list of lines, cut after ``limit`` (``more``: where the rest is)."""
    if not entries:
        return
    click.echo(f"{title} ({len(entries)}):")
    for e in entries[:limit]:
        click.echo(f"  {e}")
    if len(entries) > limit:
        click.echo(f"  ... and {len(entries) - limit} more{more}")


def fail(message: str) -> None:
    """A user mistake: one line on stderr, exit code 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a user-facing error into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraderError as e:
            fail(str(e))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper
