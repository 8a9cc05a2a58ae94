"""``python -m grader.cli``: the ``grade`` command."""

from grader.cli.main import main

main(prog_name="grade")
