"""The ``grade`` process's entry point: the click command, then a quick exit for the
student's command.

``grade ASSIGNMENT`` imports numpy and pandas (the reference needs them); an interpreter
that tears them down module by module at exit spends about a tenth of a second of CPU on
it and changes nothing.  So once that command's output is flushed the process ends at
once (``os._exit``); its fork server and scratch folders are already closed by then.
The other commands (gradebooks, releases, clusters) end as usual.
"""

from __future__ import annotations

import os
import sys


def _is_student_command(args: list[str]) -> bool:
    """``grade ASSIGNMENT ...`` or ``grade run ...`` (not ``--help``, not another command)."""
    from grader.cli.names import student_command

    return args[:1] == ["run"] and "-h" not in args and "--help" not in args \
        or student_command(args) is not None


def _prestart(args: list[str]) -> None:
    """Start the runner's fork server for the student's command before anything else loads
    (click, numpy, the assignment): it is the longest step, and it runs on another core.
    Any problem is left for the command itself to report."""
    from grader.cli.names import option_value, student_command

    name = student_command(args)
    if name is None or "--show-case" in args or "--watch" in args:
        return
    if "-v" in args or "--verbose" in args:
        os.environ["GRADER_VERBOSE"] = "1"  # the fork server says its layers as it starts
    try:
        from pathlib import Path

        from grader.api import prestart

        course = option_value(args, "--course")
        prestart(name, Path(course) if course else None)
    except Exception:  # noqa: BLE001, S110 - the command reports it, with its own words
        pass


def grade() -> None:
    """Run the ``grade`` command as this process (the console script and ``-m grader.cli``)."""
    if not _is_student_command(sys.argv[1:]):
        from grader.cli.main import main

        main(prog_name="grade")
        return
    _prestart(sys.argv[1:])
    from grader.cli.main import main

    try:
        main(prog_name="grade")
        code = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:  # a message: what SystemExit would print
            print(e.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1   # as the interpreter does when stdout cannot be flushed
    os._exit(code)
