"""When each submission was made: Gradescope's ``created_at``, a ``timestamp.txt`` in the
submission's folder (nbgrader's convention), or a CSV of ``id,submitted_at`` (``--times``)
that any LMS export can be turned into.  Canvas's ``LATE`` file-name marker has no time: it
is flagged.  A file's modification time is used only when asked (``mtime=True``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.batch.gradebook import SubmissionRow
from grader.errors import UsageError
from grader.policy.reader import parse_time

TIMESTAMP_FILES = ("timestamp.txt",)
ID_COLUMNS = ("id", "submission", "student", "student id", "sid", "user id", "email")
TIME_COLUMNS = ("submitted_at", "submitted at", "submitted", "time", "timestamp",
                "created_at", "submission time")


@dataclass(frozen=True)
class Stamp:
    """A submission's time (None: unknown), where it came from, and whether the LMS marked
    it late without saying when."""

    at: datetime | None
    source: str
    flagged: bool = False


def aware(v: Any, what: str) -> datetime:
    """A time with its zone from a string or a YAML/TOML datetime; naive is an error."""
    t = parse_time(str(v)) if not isinstance(v, datetime) else v
    if not isinstance(t, datetime):
        raise UsageError(f"{what}: {v!r} is not a time: write e.g. 2026-11-09T00:05:00-05:00")
    if t.tzinfo is None:
        raise UsageError(f"{what}: {v!r} has no time zone: add its UTC offset "
                         "(2026-11-09T00:05:00-05:00) or Z")
    return t


def _gradescope(folder: Path, key: str) -> Any:
    from grader.batch.discover import _load_meta, _metadata

    own = _metadata(folder / key) if (folder / key).is_dir() else None
    if own is not None:
        meta = _load_meta(own)
        return meta.get("created_at") if isinstance(meta, dict) else None
    top = _metadata(folder)
    table = _load_meta(top) if top is not None else {}
    meta = table.get(key) if isinstance(table, dict) else None
    return meta.get("created_at") if isinstance(meta, dict) else None


def _timestamp_file(folder: Path, sub: SubmissionRow) -> Path | None:
    """``timestamp.txt`` in the submission's own folder (or between it and its file)."""
    dirs = [folder / sub.submission]
    if sub.path:
        p = Path(sub.path).parent
        while p != folder and folder in p.parents:
            dirs.append(p)
            p = p.parent
    return next((d / n for d in dirs for n in TIMESTAMP_FILES if (d / n).is_file()), None)


def _lms_late(sub: SubmissionRow) -> bool:
    """Whether the LMS marked the submission late (Canvas's ``LATE`` file-name marker, a
    ``late`` note of the submission)."""
    return any(n.kind == "late" for n in sub.notes)


def from_folder(folder: Path, subs: list[SubmissionRow], *,
                mtime: bool = False) -> dict[str, Stamp]:
    """Each submission's time as the submissions folder tells it."""
    out = {}
    for sub in subs:
        at: datetime | None = None
        source = ""
        if sub.layout == "gradescope":
            v = _gradescope(folder, sub.submission)
            if v is not None:
                at, source = aware(v, f"{folder}: {sub.submission}: created_at"), "gradescope"
        ts = _timestamp_file(folder, sub) if at is None else None
        if ts is not None:
            text = ts.read_text(encoding="utf-8-sig", errors="replace").strip()
            at, source = aware(text.splitlines()[0] if text else "", str(ts)), "timestamp.txt"
        if at is None and mtime and sub.path and Path(sub.path).is_file():
            at = datetime.fromtimestamp(Path(sub.path).stat().st_mtime, timezone.utc)
            source = "mtime"
        out[sub.submission] = Stamp(at, source, at is None and _lms_late(sub))
    return out


def read_times(path: Path) -> dict[str, datetime]:
    """A CSV whose header names an id column (submission key or student id) and a time
    column (``submitted_at``); every time must carry its zone."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: save it as UTF-8 CSV") from None
    if not table:
        raise UsageError(f"{path} is empty: give a CSV with columns id,submitted_at")
    head = [h.strip().lower() for h in table[0]]
    i = next((head.index(c) for c in ID_COLUMNS if c in head), None)
    j = next((head.index(c) for c in TIME_COLUMNS if c in head), None)
    if i is None or j is None:
        raise UsageError(f"{path}: the first line must name an id column and a "
                         f"submitted_at column (it has: {', '.join(table[0])})")
    out = {}
    for n, row in enumerate(table[1:], start=2):
        if len(row) <= max(i, j) or not row[i].strip():
            continue
        out[row[i].strip()] = aware(row[j], f"{path}, line {n}")
    return out


def from_csv(times: dict[str, datetime], subs: list[SubmissionRow],
             source: str) -> dict[str, Stamp]:
    """Stamps for the submissions the CSV names, by key or by any member's id."""
    out = {}
    for sub in subs:
        for k in (sub.submission, *sub.members):
            if k in times:
                out[sub.submission] = Stamp(times[k], source)
                break
    return out
