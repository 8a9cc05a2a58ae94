"""Batch grading: find a class's submissions, grade them in parallel, keep them in a gradebook.

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

A submission is graded once and its score goes to every member.  Each worker process holds
one loaded assignment (hidden cases prepared once) and one runner fork server; the parent
is the gradebook's only writer, one transaction per submission.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError, SubmissionError, UsageError
from .gradebook import Gradebook, ItemRow, RosterEntry, SubmissionRow, now

LAYOUTS = ("folder", "canvas", "gradescope")
MAX_GROUP = 3
DEFAULT_TIMEOUT = 600.0
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
    notes: list[str] = field(default_factory=list)

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


def choose(candidates: list[Path], assignment: str, base: Path) -> tuple[Path, list[str]]:
    """The file to grade among several: one named for the assignment first, then a .py
    before a notebook, then by name; with a note saying which was graded."""
    def rank(p: Path) -> tuple[int, int, int, str]:
        return (p.stem.lower() != assignment.lower(), p.suffix.lower() != ".py",
                len(p.relative_to(base).parts), str(p.relative_to(base)))

    ordered = sorted(candidates, key=rank)
    chosen = ordered[0]
    notes = []
    if len(ordered) > 1:
        others = ", ".join(str(p.relative_to(base)) for p in ordered[1:6])
        more = f" and {len(ordered) - 6} more" if len(ordered) > 6 else ""
        notes.append(f"{len(ordered)} candidate files: graded {chosen.relative_to(base)}, "
                     f"not {others}{more}")
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
                f.notes.append(f"group: {', '.join(m.id for m in f.members)} (from "
                               f"{group.relative_to(folder)})")
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
                f.notes.append(f"{len(code)} files: graded the newest, {f.path.name} "
                               f"(not {older}{' ...' if len(code) > 4 else ''})")
        if m["late"]:
            f.notes.append("submitted late (Canvas marked it LATE)")
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
            f.notes.append("no submitters in the metadata: the folder name stands for them")
        if f.candidates:
            f.path, notes = choose(f.candidates, assignment, p)
            f.notes += notes
        else:
            f.fail("layout", f"{p.name}/ has no .py or .ipynb file: nothing to grade")
        if len(f.members) > 1:
            f.notes.append(f"group: {', '.join(m.id for m in f.members)}")
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


# =========================================================================== results


def result_from_dict(d: dict[str, Any]) -> Any:
    """A :class:`grader.result.Result` back from ``dataclasses.asdict`` form."""
    from .result import CaseResult, ItemResult, Result

    items = [ItemResult(**{**i, "cases": [CaseResult(**c) for c in i["cases"]]})
             for i in d["items"]]
    return Result(**{**d, "items": items})


def fatal_message(result: Any) -> str:
    """The one error every case got when nothing of the submission could run (a syntax
    error, a crash or a hang at import), or '' when it ran.  ``result``: a
    :class:`~grader.result.Result` or its ``dataclasses.asdict`` form."""
    if isinstance(result, dict):
        cases = [c for i in result["items"] for c in i["cases"]]
    else:
        cases = [asdict(c) for i in result.items for c in i.cases]
    if not cases or any(c["passed"] for c in cases):
        return ""
    messages = {c["message"] for c in cases}
    if len(messages) != 1 or not {c["status"] for c in cases} <= {"error", "timeout"}:
        return ""
    msg = next(iter(messages))
    return msg if msg.startswith(("the submission ", "importing the submission")) else ""


def result_dict(result: Any) -> dict[str, Any]:
    """``dataclasses.asdict(result)``, ten times faster: results hold only plain values, so
    a copy of each dataclass's fields does (asdict deep-copies every string)."""
    try:
        return {**vars(result), "notes": list(result.notes), "items": [
            {**vars(i), "cases": [dict(vars(c)) for c in i.cases]} for i in result.items]}
    except TypeError:   # __slots__ dataclasses: no vars()
        return asdict(result)


def content_hash(path: Path) -> str:
    """sha256 of the file's name and bytes: what a grade depends on besides the version."""
    h = hashlib.sha256(path.name.encode("utf-8", "surrogateescape") + b"\0")
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        h.update(f"unreadable: {e.strerror}".encode())
    return h.hexdigest()


def _error_hash(message: str, path: Path | None) -> str:
    base = content_hash(path) if path is not None and path.is_file() else ""
    return "error:" + hashlib.sha256((message + "\0" + base).encode()).hexdigest()


# =========================================================================== workers


def _worker_main(conn: Any, root: str, assignment: str, public_only: bool,
                 time_scale: float, limits: dict[str, Any] | None) -> None:
    """A worker: one loaded assignment, one fork server, grading what the parent sends."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when to stop
    from .api import start_server
    from .judge import Judge
    from .spec import load
    from .submission import load_source

    try:
        server = start_server(Path(root), assignment, limits)
        a = load(assignment, Path(root), public_only=public_only)
        a.hidden()
        judge = Judge(a, server, time_scale=time_scale)
        server.open().close()   # a runner that cannot start is the machine's problem
    except Exception as e:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("fatal", f"{e}"))
        return
    conn.send(("ready", a.version))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg is None:
            break
        task_id, path = msg
        t0 = time.perf_counter()
        try:
            source = load_source(Path(path))
        except SubmissionError as e:
            payload: dict[str, Any] = {"kind": "input", "message": str(e)}
        else:
            try:
                judge.load_notes = []   # a load that fails must not show the last one's notes
                result = judge.grade(source)
                payload = {"kind": "result", "result": result_dict(result)}
            except Exception as e:  # noqa: BLE001 - the runner machinery failed
                conn.send(("crash", task_id, f"{type(e).__name__}: {e}"))
                break   # the parent retries the submission in a fresh worker
        payload["seconds"] = time.perf_counter() - t0
        if payload["kind"] == "result":
            payload["result"]["seconds"] = payload["seconds"]
        try:
            conn.send(("done", task_id, payload))
        except (BrokenPipeError, OSError):
            break
    server.close()


class _Worker:
    def __init__(self, ctx: Any, args: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.task: _Task | None = None
        self.since = 0.0

    def kill(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


@dataclass
class _Task:
    id: int
    path: Path
    hash: str
    found: list[Found]
    attempts: int = 0
    last_error: str = ""


def cores() -> int:
    """The cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context() -> Any:
    import multiprocessing as mp

    if sys.platform.startswith("linux") and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["grader.batch", "grader.api", "grader.judge",
                                    "grader.spec", "grader.prepare", "grader.submission"])
        return ctx
    return mp.get_context("spawn")


# =========================================================================== the run


@dataclass
class Progress:
    """What a progress display is told after each submission."""

    done: int
    total: int
    key: str
    status: str


@dataclass
class BatchSummary:
    assignment: str
    layout: str
    db: Path
    run_id: int
    found: int = 0
    graded: int = 0          # graded in this run
    unchanged: int = 0       # already in the gradebook, same content and version
    copied: int = 0          # identical content graded before under another key
    errors: list[str] = field(default_factory=list)        # "key: message"
    notes: list[str] = field(default_factory=list)         # "key: note"
    unmatched: list[str] = field(default_factory=list)
    no_submission: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {"found": self.found, "graded": self.graded, "unchanged": self.unchanged,
                "copied": self.copied, "errors": len(self.errors)}


class BatchRun:
    """One ``grade batch``: discovery, the gradebook's bookkeeping, the workers."""

    def __init__(self, assignment: str, folder: Path, *, course: Path | None = None,
                 db: Path = Path("gradebook.sqlite"), roster: Path | None = None,
                 layout: str | None = None, workers: int | None = None, force: bool = False,
                 time_scale: float = 1.0, timeout: float = DEFAULT_TIMEOUT,
                 max_group: int = MAX_GROUP, public_only: bool = False,
                 limits: dict[str, Any] | None = None,
                 progress: Callable[[Progress], None] | None = None) -> None:
        from .api import load_assignment

        folder = Path(folder)
        if not folder.is_dir():   # the TA's slips first, before the assignment loads
            discover(folder, assignment, layout)
        if layout is not None and layout not in LAYOUTS:
            raise UsageError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        self.roster = read_roster(Path(roster)) if roster else None
        self.assignment = load_assignment(assignment, course, public_only=public_only)
        self.name = assignment
        self.folder = Path(folder)
        self.db = Path(db)
        self.roster_path = Path(roster) if roster else None
        self.layout = layout
        if workers is not None and workers < 1:
            raise UsageError("--workers must be at least 1")
        self.workers = workers or cores()
        self.force = force
        self.time_scale = time_scale
        self.timeout = timeout
        self.max_group = max_group
        self.public_only = public_only
        self.limits = limits
        self.progress = progress
        self._layout = layout or ""

    # ------------------------------------------------------------------ records
    def _record(self, book: Gradebook, f: Found, hash_: str, run_id: int, *,
                result: dict[str, Any] | None = None, status: str = "graded",
                reason: str = "", message: str = "", seconds: float = 0.0) -> str:
        a = self.assignment
        notes = list(f.notes)
        if result is not None:   # dataclasses.asdict(Result), as the worker sent it
            fatal = fatal_message(result)
            if fatal:
                status, reason, message = "error", "import", fatal
            notes += [n for n in result["notes"] if n not in notes]
            items = [ItemRow(i["id"], i["title"], i["score"], i["max_score"], i["status"],
                             i["feedback"], i["cases"]) for i in result["items"]]
            score, max_score = result["score"], result["max_score"]
            version = result["version"]
        else:
            items = [ItemRow(it.id, it.title, 0.0, float(it.points), "error", message)
                     for it in a.items]
            score, max_score, version = 0.0, float(sum(it.points for it in a.items)), a.version
        header = {k: v for k, v in result.items() if k != "items"} if result else None
        book.record(SubmissionRow(
            assignment=self.name, submission=f.key, layout=self._layout, path=str(f.path or ""),
            file=f.path.name if f.path else "", members=[m.id for m in f.members], hash=hash_,
            version=version, status=status, reason=reason, message=message, notes=notes,
            score=score, max_score=max_score, seconds=seconds, graded_at=now(), run_id=run_id,
            result=header, items=items))
        return status

    # ------------------------------------------------------------------ run
    def run(self) -> BatchSummary:
        t0 = time.perf_counter()
        roster = self.roster
        exclude = [self.db, Path(str(self.db) + "-wal"), Path(str(self.db) + "-shm")]
        if self.roster_path:
            exclude.append(self.roster_path)
        disc = discover(self.folder, self.name, self.layout, exclude=exclude,
                        max_group=self.max_group)
        self._layout = disc.layout
        unmatched = match_roster(disc.found, roster) if roster is not None else []
        for f in disc.found:   # matching may give two names of one student one id
            first: dict[str, Member] = {}
            for m in f.members:
                first.setdefault(m.id.casefold(), m)
            f.members = list(first.values())
        # ... and show a student in two submissions only now
        check_groups(disc.found, self.max_group)
        book = Gradebook(self.db)
        version = self.assignment.version
        run_id = book.start_run(self.name, str(self.folder.resolve()), disc.layout, version)
        summary = BatchSummary(self.name, disc.layout, self.db, run_id, found=len(disc.found),
                               unmatched=unmatched, ignored=disc.ignored)
        try:
            if roster is not None:
                book.set_roster(self.name, roster)
            book.set_members(self.name, [(m.id, f.key, m.name, m.email)
                                         for f in disc.found for m in f.members])
            if roster is not None:
                have = {m.id for f in disc.found for m in f.members}
                summary.no_submission = [e.id for e in roster if e.id not in have]
            self._grade_all(book, disc, run_id, summary)
        except KeyboardInterrupt:
            summary.interrupted = True
            book.finish_run(run_id, "interrupted", summary.counts())
            book.close()
            raise
        summary.seconds = time.perf_counter() - t0
        book.finish_run(run_id, "done", summary.counts())
        book.close()
        return summary

    def _grade_all(self, book: Gradebook, disc: Discovery, run_id: int,
                   summary: BatchSummary) -> None:
        version = self.assignment.version
        total = len(disc.found)
        done = 0

        def tick(key: str, status: str) -> None:
            nonlocal done
            done += 1
            if self.progress:
                self.progress(Progress(done, total, key, status))

        groups: dict[str, list[Found]] = {}
        for f in disc.found:
            for n in f.notes:
                summary.notes.append(f"{f.key}: {n}")
            if f.error:
                h = _error_hash(f.error, f.path)
                if self.force or not book.up_to_date(self.name, f.key, h, version):
                    self._record(book, f, h, run_id, status="error", reason=f.reason,
                                 message=f.error)
                summary.errors.append(f"{f.key}: {f.error}")
                tick(f.key, "error")
                continue
            assert f.path is not None
            h = content_hash(f.path)
            if not self.force and book.up_to_date(self.name, f.key, h, version):
                summary.unchanged += 1
                row = book.submission(self.name, f.key)
                if row is not None and row.status == "error":
                    summary.errors.append(f"{f.key}: {row.message}")
                tick(f.key, "unchanged")
                continue
            groups.setdefault(h, []).append(f)

        tasks: list[_Task] = []
        for h, fs in groups.items():
            if not self.force:
                same = book.same_content(self.name, h, version)
                if same is not None:
                    for f in fs:
                        status = self._record(book, f, h, run_id, result=same.result_dict(),
                                              seconds=same.seconds)
                        summary.copied += 1
                        self._count(book, f, summary, status)
                        tick(f.key, status)
                    continue
            assert fs[0].path is not None
            tasks.append(_Task(len(tasks), fs[0].path, h, fs))
        if tasks:
            self._pool(book, tasks, run_id, summary, tick)

    def _count(self, book: Gradebook, f: Found, summary: BatchSummary, status: str) -> None:
        if status == "error":
            row = book.submission(self.name, f.key)
            summary.errors.append(f"{f.key}: {row.message if row else 'error'}")

    def _finish(self, book: Gradebook, task: _Task, payload: dict[str, Any], run_id: int,
                summary: BatchSummary, tick: Callable[[str, str], None]) -> None:
        kind = payload["kind"]
        for f in task.found:
            if kind == "result":
                status = self._record(book, f, task.hash, run_id, result=payload["result"],
                                      seconds=payload["seconds"])
            elif kind == "input":
                status = self._record(book, f, task.hash, run_id, status="error",
                                      reason="input", message=payload["message"],
                                      seconds=payload["seconds"])
            else:
                status = self._record(book, f, task.hash, run_id, status="error",
                                      reason=payload.get("reason", "worker"),
                                      message=payload["message"], seconds=payload["seconds"])
            summary.graded += 1
            self._count(book, f, summary, status)
            tick(f.key, status)

    def _pool(self, book: Gradebook, tasks: list[_Task], run_id: int, summary: BatchSummary,
              tick: Callable[[str, str], None]) -> None:
        from multiprocessing.connection import wait

        ctx = _context()
        args = (str(self.assignment.root), self.name, self.public_only, self.time_scale,
                self.limits)
        queue = list(tasks)
        pool = [_Worker(ctx, args) for _ in range(min(self.workers, len(tasks)))]
        failures = 0
        try:
            while queue or any(w.task for w in pool):
                for w in pool:
                    while w.ready and w.task is None and queue:
                        task = queue.pop(0)
                        fresh = [f for f in task.found if self.force
                                 or not book.up_to_date(self.name, f.key, task.hash,
                                                        self.assignment.version)]
                        for f in task.found:
                            if f not in fresh:   # another run graded it meanwhile
                                summary.unchanged += 1
                                tick(f.key, "unchanged")
                        if not fresh:
                            continue
                        task.found = fresh
                        task.attempts += 1
                        w.task, w.since = task, time.monotonic()
                        try:
                            w.conn.send((task.id, str(task.path)))
                        except (BrokenPipeError, OSError):
                            pass   # its death is noticed below
                waits: dict[Any, _Worker] = {w.conn: w for w in pool}
                waits.update({w.proc.sentinel: w for w in pool})
                ready: list[Any] = wait(list(waits), timeout=0.5)
                for obj in ready:
                    w = waits[obj]
                    if w not in pool:
                        continue
                    msg: Any = None
                    conn: Any = w.conn
                    if obj is conn:
                        try:
                            msg = conn.recv()
                        except (EOFError, OSError):
                            msg = None
                    if msg is None:
                        if obj is conn or not w.proc.is_alive():
                            failures += self._replace(pool, w, ctx, args, queue, book, run_id,
                                                      summary, tick)
                        continue
                    if msg[0] == "ready":
                        w.ready = True
                    elif msg[0] == "fatal":
                        raise GraderError(f"the grading workers cannot start: {msg[1]}")
                    elif msg[0] == "done" and w.task is not None:
                        task, w.task = w.task, None
                        self._finish(book, task, msg[2], run_id, summary, tick)
                    elif msg[0] == "crash" and w.task is not None:
                        w.task.last_error = str(msg[2])
                        failures += self._replace(pool, w, ctx, args, queue, book, run_id,
                                                  summary, tick)
                now_ = time.monotonic()
                for w in list(pool):
                    if w.task is not None and now_ - w.since > self.timeout:
                        task, w.task = w.task, None
                        self._finish(book, task, {
                            "kind": "crash", "reason": "deadline", "seconds": now_ - w.since,
                            "message": f"grading took over {self.timeout:g} s and was "
                                       "stopped (several functions that hang?)"},
                            run_id, summary, tick)
                        self._replace(pool, w, ctx, args, queue, book, run_id, summary, tick)
                if failures > 3 * self.workers + 3:
                    raise GraderError("grading workers keep dying: check that the course's "
                                      "solutions import, and the machine's memory")
        except BaseException:
            for w in pool:   # interrupted: stop at once, the gradebook holds whole results
                w.kill()
            raise
        for w in pool:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 5
        for w in pool:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            w.kill()

    def _replace(self, pool: list[_Worker], w: _Worker, ctx: Any, args: tuple[Any, ...],
                 queue: list[_Task], book: Gradebook, run_id: int, summary: BatchSummary,
                 tick: Callable[[str, str], None]) -> int:
        """A worker died (or was stopped): retry its submission once, start another."""
        task, w.task = w.task, None
        w.kill()
        pool.remove(w)
        if task is not None:
            if task.attempts < 2:
                queue.insert(0, task)
            else:
                why = f" ({task.last_error})" if task.last_error else ""
                self._finish(book, task, {
                    "kind": "crash", "reason": "worker", "seconds": 0.0,
                    "message": "the grader failed twice on this submission" + why[:300]
                               + "; re-run to try again"}, run_id, summary, tick)
        if queue:
            pool.append(_Worker(ctx, args))
        return 1


def run_batch(assignment: str, folder: str | Path, **options: Any) -> BatchSummary:
    """Grade every submission in ``folder`` into the gradebook; see :class:`BatchRun`."""
    return BatchRun(assignment, Path(folder), **options).run()
