"""The ``grade`` command's subcommand names, without click: the entry point reads them to
tell the student's command (``grade ASSIGNMENT``) from the others before importing anything."""

from __future__ import annotations

# commands defined in grader.cli.main itself
EAGER_COMMANDS = ("run", "list", "assign")

# commands that live in their own modules, imported only when used (fast start)
LAZY_COMMANDS: dict[str, str] = {
    "verify": "grader.cli.course:verify",
    "release": "grader.cli.course:release",
    "init-ci": "grader.cli.course:init_ci",
    "batch": "grader.cli.batch:batch",
    "export": "grader.cli.batch:export",
    "report": "grader.cli.batch:report",
    "doctor": "grader.cli.doctor:doctor",
    "gradescope": "grader.cli.gradescope:gradescope",
    "late": "grader.cli.policy:late",
    "course": "grader.cli.policy:course_cmd",
    "similarity": "grader.cli.similarity:similarity",
    "audit": "grader.cli.audit:audit",
}


def student_command(args: list[str]) -> str | None:
    """The assignment that ``grade ARGS`` grades once (``grade ASSIGNMENT ...`` or ``grade run
    ASSIGNMENT ...``, not ``--help``), else None."""
    if args[:1] == ["run"]:
        args = args[1:]
    if (not args or args[0].startswith("-") or any(a in ("-h", "--help") for a in args)
            or args[0] in EAGER_COMMANDS or args[0] in LAZY_COMMANDS):
        return None
    return args[0]


def option_value(args: list[str], name: str) -> str | None:
    """The value given to ``--name VALUE`` or ``--name=VALUE`` (the last one), else None."""
    value = None
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith(name + "="):
            value = a[len(name) + 1:]
    return value
