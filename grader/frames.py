"""Length-prefixed JSON frames: the envelope of every message between judge and runner.

Pure standard library (no numpy), so the judge can start the runner's fork server
before it imports anything heavy.  Values inside messages are encoded by
:mod:`grader.wire`.
"""

from __future__ import annotations

import json
import struct
from typing import Any

MAX_FRAME = 16 * 1024 * 1024  # bytes in one message (a value, a DataFrame, a traceback)


class WireError(Exception):
    """A value cannot be encoded, or a frame is malformed or too large."""


def pack(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte cap")
    return struct.pack(">I", len(body)) + body


def unpack_header(header: bytes) -> int:
    (n,) = struct.unpack(">I", header)
    if n > MAX_FRAME:
        raise WireError(f"message of {n} bytes exceeds the {MAX_FRAME}-byte cap")
    return n


def parse(body: bytes) -> dict[str, Any]:
    try:
        msg = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WireError(f"malformed message: {e}") from None
    if not isinstance(msg, dict):
        raise WireError("malformed message")
    return msg
