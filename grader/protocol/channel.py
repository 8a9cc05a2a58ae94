"""A message channel over a stream socket: length-prefixed MessagePack frames with deadlines.

A sender may hold frames back (``holding``) and let them go with its next frame that is
not held, or with :meth:`Channel.flush`: several messages in one write.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Any

from grader.protocol import frames as wire


HOLD_CAP = 1024 * 1024  # bytes of held frames past which they go at once


class ChannelClosed(Exception):
    """The other end went away (it exited, crashed or was killed)."""


class ChannelTimeout(Exception):
    """No complete message arrived before the deadline."""


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._out = bytearray()  # frames held back
        self.holding = False     # hold frames back (up to HOLD_CAP bytes)
        self.sending = False     # a send is under way (a signal handler must not send now)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message``, after the frames held back; or hold it too, while ``holding``."""
        self.sending = True
        try:
            data = wire.pack(message)
            if self.holding and len(self._out) + len(data) <= HOLD_CAP:
                self._out += data
                return
            self._write(data)
        finally:
            self.sending = False

    def flush(self) -> None:
        """Send the frames held back, if any."""
        self.sending = True
        try:
            self._write(b"")
        finally:
            self.sending = False

    def _write(self, data: bytes) -> None:
        if self._out:
            data = bytes(self._out) + data
            self._out.clear()
        if not data:
            return
        try:
            self.sock.sendall(data)
        except (BlockingIOError, TimeoutError):  # a send timeout ran out: no one reads
            raise ChannelTimeout() from None
        except OSError as e:
            raise ChannelClosed(str(e)) from None

    def _fill(self, n: int, deadline: float | None) -> None:
        while len(self._buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout()
                ready, _, _ = select.select([self.sock], [], [], left)
                if not ready:
                    raise ChannelTimeout()
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except OSError as e:
                raise ChannelClosed(str(e)) from None
            if not chunk:
                raise ChannelClosed("end of stream")
            self._buf += chunk

    def recv(self, deadline: float | None = None) -> dict[str, Any]:
        """The next message; ``deadline`` is a ``time.monotonic()`` instant or None."""
        self._fill(4, deadline)
        n = wire.unpack_header(bytes(self._buf[:4]))
        self._fill(4 + n, deadline)
        body = bytes(self._buf[4:4 + n])
        del self._buf[:4 + n]
        return wire.parse(body)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
