"""The code to compare: a class's submissions found as ``grade batch`` finds them, the
starter code to subtract, and the reference solution as an optional extra source.

Discovery, the roster and the group checks are :mod:`grader.batch`'s own; a file is read
as the runner would read it (:func:`grader.submission.load_source`: a ``.py`` as it is, a
notebook's code cells), so what is skipped here is what ``grade batch`` reports as an
input error.  Nothing is imported or run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.discover import check_groups, discover
from grader.batch.records import content_hash
from grader.batch.roster import match_roster, one_id_each, read_roster
from grader.course.files import paths
from grader.course.submission import load_source
from grader.errors import SubmissionError, UsageError
from grader.result import Note

__all__ = ["REFERENCE_KEY", "Entry", "Gathered", "Skipped", "gather", "read_code"]

REFERENCE_KEY = "(reference)"


@dataclass
class Entry:
    """One source to compare: who it counts for, where it is, and its code."""

    key: str
    members: list[str]
    path: Path
    code: str
    hash: str
    notes: list[Note] = field(default_factory=list)

    def same_group(self, other: Entry) -> bool:
        """True where the two share a student: a group's own work is never evidence."""
        mine = {m.casefold() for m in self.members}
        return any(m.casefold() in mine for m in other.members)


@dataclass
class Skipped:
    """A submission with nothing to compare, and why (as ``grade batch`` would say).

    ``reason`` is ``layout`` (no code file found), ``input`` (the file cannot be read as
    code) or ``starter`` (nothing in it but the starter code).
    """

    key: str
    message: str
    reason: str = "input"


@dataclass
class Gathered:
    layout: str
    entries: list[Entry]
    skipped: list[Skipped]
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def read_code(path: Path) -> str:
    """A submission's code as the runner sees it (raises SubmissionError, one line)."""
    return load_source(path).code


def gather(folder: Path, assignment: str, *, layout: str | None = None,
           roster: Path | None = None, max_group: int = 3,
           exclude: tuple[Path, ...] = ()) -> Gathered:
    """The class's submissions in ``folder``, read; what cannot be compared is skipped."""
    people = read_roster(roster) if roster else None
    skip = [*exclude, *([roster] if roster else [])]
    disc = discover(folder, assignment, layout, exclude=skip, max_group=max_group)
    unmatched = match_roster(disc.found, people) if people is not None else []
    one_id_each(disc.found)
    check_groups(disc.found, max_group)
    entries, skipped = [], []
    for f in disc.found:
        notes = list(f.notes)
        if f.error and f.reason != "group":
            skipped.append(Skipped(f.key, f.error, "layout"))
            continue
        if f.error:     # a group problem is the gradebook's business; the code still counts
            notes.append(Note("group", f.error))
        if f.path is None:
            skipped.append(Skipped(f.key, f"{f.key}: nothing to compare", "layout"))
            continue
        try:
            code = read_code(f.path)
        except SubmissionError as e:
            skipped.append(Skipped(f.key, str(e)))
            continue
        entries.append(Entry(f.key, [m.id for m in f.members], f.path, code,
                             content_hash(f.path), notes))
    return Gathered(disc.layout, entries, skipped, unmatched, disc.ignored)


def starter_sources(root: Path, assignment: str, extra: tuple[Path, ...] = ()) -> list[str]:
    """The code every student was given: the stub (``.py`` and notebook) and ``extra``."""
    p = paths(root, assignment)
    if not p["stub"].is_file() and not p["notebook"].is_file():
        raise UsageError(f"no starter code for {assignment!r}: {p['stub']} not found; give "
                         "the assignment's name (`grade list` names them)")
    found = [q for q in (p["stub"], p["notebook"]) if q.is_file()]
    out = []
    for q in [*found, *extra]:
        try:
            out.append(read_code(Path(q)))
        except SubmissionError as e:
            raise UsageError(f"starter code {q}: {e}") from None
    return out


def reference_entry(root: Path, assignment: str) -> Entry:
    """The reference solution as one more source: copies of a leaked solution show up."""
    ref = paths(root, assignment)["reference"]
    if not ref.is_file():
        raise UsageError(f"--reference: {ref} not found (the reference solution is on the "
                         "instructor's side, solutions/)")
    try:
        code = read_code(ref)
    except SubmissionError as e:
        raise UsageError(f"--reference: {e}") from None
    return Entry(REFERENCE_KEY, [], ref, code, content_hash(ref))
