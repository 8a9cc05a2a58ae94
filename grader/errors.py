"""Errors the platform reports to its users as one line (exit code 2), never a traceback."""

from __future__ import annotations


class GraderError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""

    exit_code = 2


class UsageError(GraderError):
    """The command was called wrongly (unknown assignment, missing file, bad option)."""


class SubmissionError(GraderError):
    """A submission cannot be read at all (not UTF-8, corrupt notebook, not a .py/.ipynb)."""


class AuthoringError(GraderError):
    """An instructor's source is malformed (unclosed solution marker, unknown function)."""
