"""Typed access to a parsed ``course.toml`` that fails with file, key and line; times
(aware, in the course's zone) and durations as the file writes them."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.errors import UsageError
from grader.policy.toml import where

_DURATION_UNITS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}


class Reader:
    """Typed access to the parsed file that fails with file, key and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def fail(self, key: str, what: str) -> UsageError:
        return UsageError(f"{where(self.path, self.text, key)}: {what}")

    def table(self, d: Any, key: str, keys: tuple[str, ...] = ()) -> dict[str, Any]:
        """``d`` as a table; with ``keys``, any other key is an error (a typo would
        otherwise be ignored without a word)."""
        if not isinstance(d, dict):
            raise self.fail(key, "must be a table")
        for k in d:
            if keys and k not in keys:
                raise self.fail(f"{key}.{k}" if key else k,
                                f"unknown key: use one of {', '.join(keys)}")
        return d

    def number(self, d: dict[str, Any], key: str, name: str, default: float | None = None,
               low: float = 0.0, high: float = math.inf) -> float:
        v = d.get(name, default)
        full = f"{key}.{name}" if key else name
        if v is None:
            raise self.fail(full, "is missing: give a number")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            bound = f" between {low:g} and {high:g}" if high < math.inf else f" ≥ {low:g}"
            raise self.fail(full, f"must be a number{bound}, not {v!r}")
        return float(v)

    def text_(self, d: dict[str, Any], key: str, name: str, default: str | None = None) -> str:
        v = d.get(name, default)
        if not isinstance(v, str):
            raise self.fail(f"{key}.{name}" if key else name,
                            "is missing: give a string" if v is None else
                            f"must be a string, not {v!r}")
        return v

    def time(self, v: Any, key: str, zone: ZoneInfo) -> datetime:
        """An aware time: a TOML offset date-time, or a string ending in a zone name."""
        t = parse_time(v) if isinstance(v, str) else v
        if isinstance(t, datetime) and t.tzinfo is None:
            raise self.fail(key, f"{v} is a naive time: add its UTC offset "
                                 f"(e.g. {t.replace(tzinfo=zone).isoformat()})")
        if not isinstance(t, datetime):
            raise self.fail(key, f"{v!r} is not a date-time: write e.g. "
                                 "2026-11-09T00:00:00-05:00")
        check_offset(t, zone, lambda msg: self.fail(key, msg))
        return t.astimezone(zone)

    def duration(self, v: Any, key: str) -> timedelta:
        """``"15m"``, ``"2h"``, ``"1d"``, ``"90s"`` or a number of minutes."""
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
            return timedelta(minutes=float(v))
        if isinstance(v, str):
            s = v.strip().lower().replace(" ", "")
            for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
                if s.endswith(unit) and _is_number(s[: -len(unit)]):
                    return timedelta(seconds=float(s[: -len(unit)]) * _DURATION_UNITS[unit])
        raise self.fail(key, f"{v!r} is not a duration: write e.g. \"15min\", \"2h\", \"1d\"")


def _is_number(s: str) -> bool:
    try:
        return float(s) >= 0
    except ValueError:
        return False


def parse_time(s: str) -> datetime | str:
    """``2026-11-09T00:00-05:00``, ``...Z``, or ``2026-11-09 00:00 America/New_York`` (a
    zone name last); naive when neither; the string itself when it is no time at all."""
    s = re.sub(r"(\.\d{6})\d+", r"\1", s.strip())          # Gradescope's nanoseconds
    s = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", s)          # "... 03:12:45 -05:00"
    head, _, tail = s.rpartition(" ")
    if head and tail and not tail[0].isdigit():
        try:
            zone = ZoneInfo("UTC" if tail.upper() in ("UTC", "GMT", "Z") else tail)
        except (ZoneInfoNotFoundError, ValueError):
            return s
        t = parse_time(head)
        return t.replace(tzinfo=zone) if isinstance(t, datetime) and t.tzinfo is None else s
    try:
        return datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
    except ValueError:
        return s


def check_offset(t: datetime, zone: ZoneInfo, fail: Any) -> None:
    """A non-UTC offset must be the course zone's own at that time (-04:00 for a November
    date in New York is a slip that moves the deadline by an hour); a zone given by name
    is taken as meant."""
    off = t.utcoffset()
    if not off or isinstance(t.tzinfo, ZoneInfo):
        return
    local = t.astimezone(zone)
    if local.utcoffset() != off:
        raise fail(f"{t.isoformat()} has offset {_offset(off)} but {zone.key} is at "
                   f"{_offset(local.utcoffset())} then ({local:%Y-%m-%d %H:%M %Z}): fix the "
                   "offset, or write the time as \"YYYY-MM-DD HH:MM " + zone.key + "\"")


def _offset(d: timedelta | None) -> str:
    m = int((d or timedelta(0)).total_seconds() // 60)
    return f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
