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
    from grader.cli.main import LAZY_COMMANDS, main

    if not args or args[0].startswith("-") or any(a in ("-h", "--help") for a in args):
        return False
    return args[0] == "run" or (args[0] not in main.commands and args[0] not in LAZY_COMMANDS)


def grade() -> None:
    """Run the ``grade`` command as this process (the console script and ``-m grader.cli``)."""
    from grader.cli.main import main

    if not _is_student_command(sys.argv[1:]):
        main(prog_name="grade")
        return
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
