"""A class list (CSV) read into roster entries, and submissions matched to it by id or name.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from grader.batch.discover import Found, Member
from grader.batch.gradebook import RosterEntry
from grader.errors import UsageError

# =========================================================================== roster

_ID = ("id", "student id", "student_id", "studentid", "sid", "user id", "user_id", "login",
       "username", "student number")
_NAME = ("name", "student", "student name", "full name", "full_name")
_EMAIL = ("email", "e-mail", "email address", "mail")
_EXTRA = {"section": "section", "sis user id": "sis_user_id", "sis_user_id": "sis_user_id",
          "sis login id": "sis_login_id", "sis_login_id": "sis_login_id"}


def read_roster(path: Path) -> list[RosterEntry]:
    """The class list: a CSV whose first line names its columns (id, name, email; also
    accepted: a Canvas gradebook export, with Student, ID, SIS User ID, Section)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"roster {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"roster {path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    except OSError as e:
        raise UsageError(f"roster {path} cannot be read: {e.strerror}") from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as e:
        raise UsageError(f"roster {path} is not valid CSV ({e})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise UsageError(f"roster {path} is empty: it needs a header line (id,name,email) "
                         "and a line per student")
    header = [h.strip().lower() for h in rows[0]]

    def col(names: Iterable[str]) -> int | None:
        return next((header.index(n) for n in names if n in header), None)

    i_id, i_name, i_email = col(_ID), col(_NAME), col(_EMAIL)
    if i_id is None:
        raise UsageError(f"roster {path} has no id column: its first line must name the "
                         f"columns, e.g. id,name,email (it is: {','.join(rows[0])[:80]})")
    extras = {i: _EXTRA[h] for i, h in enumerate(header) if h in _EXTRA}
    if "student" in header and "id" in header and extras:   # a Canvas gradebook export:
        extras[header.index("id")] = "canvas_id"              # its ID is Canvas's user id
    out: list[RosterEntry] = []
    first_line: dict[str, int] = {}
    def cell(r: list[str], i: int | None) -> str:
        return r[i].strip() if i is not None and i < len(r) else ""

    for n, r in enumerate(rows[1:], start=2):
        def get(i: int | None, r: list[str] = r) -> str:
            return cell(r, i)

        if get(i_name).lower() == "points possible" or get(0).lower() == "points possible":
            continue
        sid = get(i_id)
        if not sid:
            raise UsageError(f"roster {path} line {n} has no id: every student needs one")
        if sid.casefold() in first_line:
            raise UsageError(f"roster {path}: id {sid} appears twice (lines "
                             f"{first_line[sid.casefold()]} and {n})")
        first_line[sid.casefold()] = n
        out.append(RosterEntry(sid, get(i_name), get(i_email),
                               {k: get(i) for i, k in extras.items() if get(i)}))
    if not out:
        raise UsageError(f"roster {path} lists no students")
    return out


def _name_keys(name: str) -> set[str]:
    if "," in name:
        last, first = name.split(",", 1)
        tokens = re.findall(r"[a-z0-9]+", (first + " " + last).lower())
    else:
        tokens = re.findall(r"[a-z0-9]+", name.lower())
    if not tokens:
        return set()
    return {"".join(tokens), "".join(tokens[-1:] + tokens[:-1])}


def match_roster(found: list[Found], roster: list[RosterEntry]) -> list[str]:
    """Give members their roster ids (by id, then email, then Canvas's name key); return
    the members no roster entry matches, as ``key: id`` strings."""
    by_id = {e.id.casefold(): e for e in roster}
    by_email = {e.email.casefold(): e for e in roster if e.email}
    by_name: dict[str, RosterEntry | None] = {}
    for e in roster:
        for k in _name_keys(e.name):
            by_name[k] = None if k in by_name else e   # ambiguous names match nobody
    unmatched: list[str] = []
    for f in found:
        for m in f.members:
            hit = (by_id.get(m.id.casefold()) or by_email.get(m.email.casefold() or "\0")
                   or by_email.get(m.id.casefold())
                   or (by_name.get(m.hint) if m.hint else None))
            if hit is None:
                unmatched.append(f"{f.key}: {m.id}" if m.id != f.key else f.key)
                continue
            m.id = hit.id
            m.name = m.name or hit.name
            m.email = m.email or hit.email
    return unmatched


def is_test_student(entry: RosterEntry) -> bool:
    """Canvas's "Student, Test" (the student view's user): in every Canvas export, never a
    real student, so neither missing nor graded."""
    return entry.name.strip().casefold() in ("student, test", "test student")


def one_id_each(found: list[Found]) -> None:
    """Keep one member per student in each submission (matching the roster may give two
    names of one student one id)."""
    for f in found:
        first: dict[str, Member] = {}
        for m in f.members:
            first.setdefault(m.id.casefold(), m)
        f.members = list(first.values())
