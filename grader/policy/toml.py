"""Reading a TOML file into plain data, with one-line errors that name file, key and line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from grader.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed file and its text; a syntax error is one line naming file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: not valid TOML ({e}): fix that line") from None


def line_of(text: str, key: str) -> int | None:
    """The line where a dotted ``key`` (``assignments.hw1.due``, ``extensions[2].student``)
    is set, found from its table header and last part; None when it cannot be told."""
    parts = [p for p in re.split(r"[.\[\]]+", key) if p]
    if not parts:
        return None
    leaf = parts[-1]
    index = next((int(p) for p in reversed(parts) if p.isdigit()), None)
    tables = [p for p in parts[:-1] if not p.isdigit()]
    header_seen = not tables
    count = -1
    lines = text.splitlines()
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("["):
            name = line.strip("[] ").replace('"', "")
            header_seen = bool(tables) and name == ".".join(tables)
            if header_seen and line.startswith("[["):
                count += 1
            continue
        if header_seen and (index is None or count == index) and \
                re.match(rf'^"?{re.escape(leaf)}"?\s*=', line):
            return n
    return None


def where(path: Path, text: str, key: str) -> str:
    """``course.toml, line 12, assignments.hw1.due`` (no line when it cannot be told)."""
    n = line_of(text, key)
    return f"{path}, line {n}, {key}" if n is not None else f"{path}, {key}"
