"""A result as stored in the gradebook and sent between processes; content hashes of submissions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

# =========================================================================== results


def fatal_message(result: Any) -> str:
    """Why the submission did not load (a syntax error, an import error or hang), or ''
    when it did: the result's ``load_error`` field.  ``result``: a Result or its JSON form."""
    if isinstance(result, dict):
        return str(result.get("load_error", ""))
    return str(result.load_error)


def content_hash(path: Path) -> str:
    """sha256 of the file's kind (its suffix: a notebook is read otherwise) and its bytes:
    what a grade depends on besides the version.  Not its name, so byte-identical files
    handed in under several students' names share one hash (and one grading)."""
    h = hashlib.sha256(path.suffix.lower().encode("utf-8", "surrogateescape") + b"\0")
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
