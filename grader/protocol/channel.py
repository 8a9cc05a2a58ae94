"""A message channel over a stream socket: length-prefixed MessagePack frames with deadlines."""

from __future__ import annotations

import select
import socket
import time
from typing import Any

from grader.protocol import frames as wire


class ChannelClosed(Exception):
    """The other end went away (it exited, crashed or was killed)."""


class ChannelTimeout(Exception):
    """No complete message arrived before the deadline."""


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self.sending = False     # a send is under way (a signal handler must not send now)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any], *more: dict[str, Any]) -> None:
        """Send ``message`` (and ``more`` after it) in one write."""
        self.sending = True
        try:
            data = wire.pack(message)
            if more:
                data += b"".join(wire.pack(m) for m in more)
            try:
                self.sock.sendall(data)
            except (BlockingIOError, TimeoutError):  # a send timeout ran out: no one reads
                raise ChannelTimeout() from None
            except OSError as e:
                raise ChannelClosed(str(e)) from None
        finally:
            self.sending = False

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
