"""Find the file to grade in Gradescope's ``submission/`` folder.

The rules are a folder submission's in batch grading (:func:`grader.batch.discover.discover`):
``.py`` and ``.ipynb`` files anywhere in it, checkpoints and caches skipped; of several,
the one named for the assignment, then a ``.py`` before a notebook, with a note saying
which.  On top of that nothing outside ``submission/`` is ever read, links included.
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import SubmissionError
from grader.result import Note


def find_submission(folder: Path, assignment: str) -> tuple[Path, list[Note]]:
    """The file to grade in ``folder`` and the notes to show (which file, and why).

    Raises :class:`SubmissionError` with a one-line message when there is nothing to grade.
    """
    from grader.batch.discover import discover

    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"no submission folder at {folder}: nothing was submitted")
    parent = folder.parent
    others = [p for p in parent.iterdir() if p.name != folder.name]
    found = [f for f in discover(parent, assignment, "folder", exclude=others).found
             if f.key == folder.name]
    if not found:   # an empty folder (or only junk such as __MACOSX): discovery sees nothing
        raise SubmissionError(_nothing(assignment))
    f = found[0]
    if not f.candidates:
        raise SubmissionError(_nothing(assignment))
    if f.error or f.path is None:
        raise SubmissionError(f.error or _nothing(assignment))
    if folder.resolve() not in f.path.resolve().parents:
        raise SubmissionError(f"{f.path.relative_to(folder)} is a link to a file outside "
                              "your submission: not read; upload the file itself")
    return f.path, [n for n in f.notes if n.kind == "choice"]   # not a group.txt's


def _nothing(assignment: str) -> str:
    return (f"no .py or .ipynb file in your submission: upload {assignment}.py or "
            f"{assignment}.ipynb (the file itself, or a zip or repository holding it)")


__all__ = ["find_submission"]
