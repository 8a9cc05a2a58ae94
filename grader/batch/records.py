"""A result as stored in the gradebook and sent between processes; content hashes of submissions.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

# =========================================================================== results


def result_from_dict(d: dict[str, Any]) -> Any:
    """A :class:`grader.result.Result` back from ``dataclasses.asdict`` form."""
    from grader.result import CaseResult, ItemResult, Result

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
