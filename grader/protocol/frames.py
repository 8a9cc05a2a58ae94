"""Length-prefixed MessagePack frames: the envelope of every message between judge and runner.

MessagePack, not JSON: arrays travel as raw bytes (no base64, no escaping), and values
nested in a message as packed bytes, so a message costs about what copying it does.
Unpacking is plain data only (maps with string keys, lists, numbers, strings, bytes):
nothing in a frame can make the reader run code.  No numpy here, so the judge can start
the runner's fork server before it imports anything heavy.  Values inside messages are
encoded by :mod:`grader.protocol.wire`.
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

MAX_FRAME = 16 * 1024 * 1024  # bytes in one message (a value, a DataFrame, a traceback)


class WireError(Exception):
    """A value cannot be encoded, or a frame is malformed or too large."""


def packb(obj: Any) -> bytes:
    """Plain data (dicts, lists, numbers, str, bytes) as MessagePack bytes."""
    try:
        # a lone surrogate (from bytes decoded with surrogateescape, say) still travels;
        # the reader turns what is not UTF-8 into U+FFFD
        return msgpack.packb(obj, use_bin_type=True, unicode_errors="surrogatepass")
    except (TypeError, ValueError, OverflowError) as e:
        raise WireError(f"cannot be sent: {type(e).__name__}: {str(e)[:200]}") from None


def unpackb(data: Any) -> Any:
    """The plain data in MessagePack bytes; anything malformed is a :class:`WireError`."""
    if not isinstance(data, bytes):
        raise WireError("malformed data (not MessagePack bytes)")
    try:
        # (its size limits follow len(data), which the frame header already capped)
        return msgpack.unpackb(data, raw=False, strict_map_key=True, unicode_errors="replace",
                               ext_hook=_no_extensions)
    except Exception as e:  # noqa: BLE001 - ExtraData, StackError, UnicodeDecodeError, ...
        raise WireError(f"malformed data: {type(e).__name__}") from None


def _no_extensions(code: int, data: bytes) -> Any:
    raise WireError("extension types are not data")


def pack(message: dict[str, Any]) -> bytes:
    body = packb(message)
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte cap")
    return struct.pack(">I", len(body)) + body


def unpack_header(header: bytes) -> int:
    (n,) = struct.unpack(">I", header)
    if n > MAX_FRAME:
        raise WireError(f"message of {n} bytes exceeds the {MAX_FRAME}-byte cap")
    return n


def parse(body: bytes) -> dict[str, Any]:
    msg = unpackb(body)
    if not isinstance(msg, dict):
        raise WireError("malformed message")
    return msg
