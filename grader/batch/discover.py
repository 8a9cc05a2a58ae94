"""Find a class's submissions in a folder, whatever layout it has.

Three layouts of a submissions folder are understood:

- ``folder``: one file (``alice.py``) or one sub-folder (``alice/``) per student, named by the
  student id; a ``group.txt`` of ids in a sub-folder makes it a group submission;
- ``canvas``: a Canvas bulk download, files named ``lastfirst_12345_67890_hw1.ipynb``
  (``lastfirst_LATE_12345_...`` when late): the student's Canvas id, then the file's
  attachment id; of several files of one student, the newest (highest attachment id) is
  graded;
- ``gradescope``: a Gradescope export, a folder per submission and a
  ``submission_metadata.yml`` (or ``.json``) naming each submission's submitters (also
  accepted: a ``submission_metadata.json`` inside each folder, as the autograder gets it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.result import Note

LAYOUTS = ("folder", "canvas", "gradescope")
MAX_GROUP = 3
GROUP_FILES = ("group.txt", "GROUP.txt", "Group.txt")
_JUNK = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", "Thumbs.db", "desktop.ini",
         ".DS_Store", "submission_metadata.yml", "submission_metadata.json"}
_CODE = (".py", ".ipynb")
_CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:(?P<late>late)_)?(?P<uid>\d+)_(?P<aid>\d+)_"
                     r"(?P<file>.+)$", re.IGNORECASE)
_RESUBMITTED = re.compile(r"-(\d+)$")


# =========================================================================== discovery


@dataclass
class Member:
    """A student a submission counts for, as the layout names them."""

    id: str
    name: str = ""
    email: str = ""
    hint: str = ""       # Canvas's name key (``lastfirst``), to match a roster by name


@dataclass
class Found:
    """One submission found in the folder: who it is for and which file is graded."""

    key: str
    members: list[Member]
    path: Path | None
    candidates: list[Path] = field(default_factory=list)
    error: str = ""      # nothing to grade (no code file, bad group): the message
    reason: str = ""     # layout | group, with ``error``
    notes: list[Note] = field(default_factory=list)

    def fail(self, reason: str, message: str) -> None:
        if not self.error:
            self.error, self.reason = message, reason


@dataclass
class Discovery:
    layout: str
    folder: Path
    found: list[Found]
    ignored: list[str] = field(default_factory=list)   # entries that are no submission


def _junk(p: Path) -> bool:
    return p.name.startswith(".") or p.name in _JUNK or p.name.startswith("~$")


def _is_code(p: Path) -> bool:
    return p.suffix.lower() in _CODE


def _entries(folder: Path, exclude: set[Path]) -> list[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as e:
        raise UsageError(f"cannot read {folder}: {e.strerror}") from None
    return [p for p in entries if not _junk(p) and p.resolve() not in exclude]


def _code_files(folder: Path) -> list[Path]:
    """The .py and .ipynb files under ``folder`` (checkpoints, caches, dotfiles skipped)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _junk(Path(d)))
        out += [Path(dirpath) / f for f in sorted(filenames)
                if not _junk(Path(f)) and _is_code(Path(f))]
    return out


def _metadata(folder: Path) -> Path | None:
    for name in ("submission_metadata.yml", "submission_metadata.yaml",
                 "submission_metadata.json"):
        if (folder / name).is_file():
            return folder / name
    return None


def detect_layout(folder: Path) -> str:
    """``gradescope`` where there is submission metadata, ``canvas`` where the files are
    named as in a Canvas download, ``folder`` otherwise."""
    entries = _entries(folder, set())
    if _metadata(folder) is not None or any(
            p.is_dir() and _metadata(p) is not None for p in entries):
        return "gradescope"
    files = [p for p in entries if p.is_file()]
    if files and not any(p.is_dir() for p in entries) and \
            sum(bool(_CANVAS.match(p.name)) for p in files) * 2 > len(files):
        return "canvas"
    return "folder"


def choose(candidates: list[Path], assignment: str, base: Path) -> tuple[Path, list[Note]]:
    """The file to grade among several: one named for the assignment first, then a .py
    before a notebook, then by name; with a note saying which was graded."""
    def rank(p: Path) -> tuple[int, int, int, str]:
        return (p.stem.lower() != assignment.lower(), p.suffix.lower() != ".py",
                len(p.relative_to(base).parts), str(p.relative_to(base)))

    ordered = sorted(candidates, key=rank)
    chosen = ordered[0]
    notes: list[Note] = []
    if len(ordered) > 1:
        others = ", ".join(str(p.relative_to(base)) for p in ordered[1:6])
        more = f" and {len(ordered) - 6} more" if len(ordered) > 6 else ""
        notes.append(Note("choice", f"{len(ordered)} candidate files: graded "
                          f"{chosen.relative_to(base)}, not {others}{more}"))
    return chosen, notes


def _read_group(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    ids = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        ids += [t for t in re.split(r"[\s,;]+", line) if t]
    return ids


def _group_members(owner: str, ids: list[str]) -> list[Member]:
    out = [Member(owner)]
    for i in ids:
        if i.casefold() not in {m.id.casefold() for m in out}:
            out.append(Member(i))
    return out


def _discover_folder(folder: Path, assignment: str, exclude: set[Path]) -> Discovery:
    found: dict[str, Found] = {}
    ignored: list[str] = []
    for p in _entries(folder, exclude):
        if p.is_dir():
            key = p.name
            f = found.setdefault(key, Found(key, [Member(key)], None))
            f.candidates += _code_files(p)
            group = next((p / g for g in GROUP_FILES if (p / g).is_file()), None)
            if group is not None:
                f.members = _group_members(key, _read_group(group))
                ids = ", ".join(m.id for m in f.members)
                f.notes.append(Note("group", f"group: {ids} (from {group.relative_to(folder)})"))
        elif p.is_file():
            key = p.stem if _is_code(p) else p.name.split(".", 1)[0] or p.name
            f = found.setdefault(key, Found(key, [Member(key)], None))
            f.candidates.append(p)
        else:
            ignored.append(p.name)
    for f in found.values():
        code = [c for c in f.candidates if _is_code(c)]
        own = folder / f.key
        base = own if own.is_dir() and all(own in c.parents for c in code) else folder
        if code:
            f.path, notes = choose(code, assignment, base)
            f.notes += notes
        elif f.candidates:
            # a lone file that is not code: let the reader say what is wrong with it
            f.path = f.candidates[0]
        else:
            f.fail("layout", f"{f.key}/ has no .py or .ipynb file: nothing to grade")
    return Discovery("folder", folder, list(found.values()), ignored)


def _discover_canvas(folder: Path, assignment: str, exclude: set[Path]) -> Discovery:
    by_user: dict[str, list[tuple[tuple[int, int], Path, re.Match[str]]]] = {}
    ignored = []
    for p in _entries(folder, exclude):
        m = _CANVAS.match(p.name)
        if not p.is_file() or m is None:
            ignored.append(p.name + ("/" if p.is_dir() else ""))
            continue
        resub = _RESUBMITTED.search(Path(m["file"]).stem)
        order = (int(m["aid"]), int(resub.group(1)) if resub else 0)
        by_user.setdefault(m["uid"], []).append((order, p, m))
    found = []
    for uid, files in sorted(by_user.items()):
        files.sort(key=lambda t: t[0], reverse=True)
        code = [t for t in files if _is_code(t[1])]
        m = files[0][2]
        f = Found(uid, [Member(uid, hint=m["name"].lower())], None,
                  candidates=[t[1] for t in files])
        if not code:
            f.path = files[0][1]
        else:
            f.path = code[0][1]
            if len(code) > 1:
                older = ", ".join(t[1].name for t in code[1:4])
                f.notes.append(Note("choice", f"{len(code)} files: graded the newest, "
                                    f"{f.path.name} (not {older}"
                                    f"{' ...' if len(code) > 4 else ''})"))
        if m["late"]:
            f.notes.append(Note("late", "submitted late (Canvas marked it LATE)"))
        found.append(f)
    return Discovery("canvas", folder, found, ignored)


def _strip(d: Any) -> Any:
    """Ruby-symbol YAML keys (``:submitters:``) as plain keys."""
    if isinstance(d, dict):
        return {str(k).strip(":"): _strip(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_strip(x) for x in d]
    return d


def _load_meta(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".json":
            return _strip(json.loads(text))
        import yaml

        return _strip(yaml.safe_load(text))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"{path} cannot be read ({type(e).__name__}: {e}); "
                         "re-download the Gradescope export") from None
    except Exception as e:  # noqa: BLE001 - yaml's own errors
        raise UsageError(f"{path} is not valid YAML ({str(e).splitlines()[0]}); "
                         "re-download the Gradescope export") from None


def _gs_members(meta: Any) -> list[Member]:
    people: Any = []
    if isinstance(meta, dict):
        people = meta.get("submitters") or meta.get("users") or []
    out = []
    for p in people if isinstance(people, list) else []:
        if not isinstance(p, dict):
            continue
        sid = str(p.get("sid") or "").strip()
        email = str(p.get("email") or "").strip()
        name = str(p.get("name") or "").strip()
        ident = sid or email or str(p.get("id") or "").strip() or name
        if ident:
            out.append(Member(ident, name, email))
    return out


def _discover_gradescope(folder: Path, assignment: str, exclude: set[Path]) -> Discovery:
    top = _metadata(folder)
    table = _load_meta(top) if top is not None else {}
    if top is not None and not isinstance(table, dict):
        raise UsageError(f"{top} does not map submissions to their submitters: "
                         "re-download the Gradescope export")
    found = []
    ignored = []
    for p in _entries(folder, exclude):
        if not p.is_dir():
            ignored.append(p.name)
            continue
        own = _metadata(p)
        meta = _load_meta(own) if own is not None else table.get(p.name)
        members = _gs_members(meta)
        f = Found(p.name, members, None, candidates=_code_files(p))
        group = next((p / g for g in GROUP_FILES if (p / g).is_file()), None)
        if group is not None:
            for i in _read_group(group):
                if i.casefold() not in {m.id.casefold() for m in f.members}:
                    f.members.append(Member(i))
        if not f.members:
            f.members = [Member(p.name)]
            f.notes.append(Note("metadata", "no submitters in the metadata: the folder name "
                                           "stands for them"))
        if f.candidates:
            f.path, notes = choose(f.candidates, assignment, p)
            f.notes += notes
        else:
            f.fail("layout", f"{p.name}/ has no .py or .ipynb file: nothing to grade")
        if len(f.members) > 1:
            f.notes.append(Note("group", f"group: {', '.join(m.id for m in f.members)}"))
        found.append(f)
    return Discovery("gradescope", folder, found, ignored)


def discover(folder: Path, assignment: str, layout: str | None = None, *,
             exclude: Iterable[Path] = (), max_group: int = MAX_GROUP) -> Discovery:
    """The submissions in ``folder``: their keys, members and the file to grade of each.

    ``layout`` is one of :data:`LAYOUTS` (detected when None).  Groups larger than
    ``max_group``, and students in more than one submission, make those submissions errors.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder}: no such folder: give the folder that holds the "
                         "submissions")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: give the folder that holds the "
                         "submissions (unzip a download first)")
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    skip = {Path(p).resolve() for p in exclude}
    layout = layout or detect_layout(folder)
    finder = {"folder": _discover_folder, "canvas": _discover_canvas,
              "gradescope": _discover_gradescope}[layout]
    disc = finder(folder, assignment, skip)
    inside = folder.resolve()
    for f in disc.found:   # a link in a student's zip must not make the grader read TA files
        if f.path is not None and inside not in f.path.resolve().parents:
            shown = f.path.relative_to(folder) if folder in f.path.parents else f.path.name
            f.fail("layout", f"{shown} is a link to a file outside the submissions folder: "
                             "not read")
            f.path = None
    check_groups(disc.found, max_group)
    return disc


def check_groups(found: list[Found], max_group: int = MAX_GROUP) -> None:
    """Mark submissions whose group is too large or shares a student with another."""
    where: dict[str, list[Found]] = {}
    for f in found:
        if len(f.members) > max_group:
            f.fail("group", f"a group of {len(f.members)} "
                            f"({', '.join(m.id for m in f.members)}): groups have at most "
                            f"{max_group} members; fix the group and re-run")
        for m in f.members:
            where.setdefault(m.id.casefold(), []).append(f)
    for student, subs in where.items():
        if len(subs) > 1:
            keys = ", ".join(s.key for s in subs)
            name = next(m.id for m in subs[0].members if m.id.casefold() == student)
            for s in subs:
                s.fail("group", f"{name} is in {len(subs)} submissions ({keys}): a student "
                                "may be in one group only; fix the groups and re-run")
