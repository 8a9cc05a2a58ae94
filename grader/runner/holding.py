"""A batch's results held back and sent as one frame, and what lets them go early.

Sent one by one, each result is a write, and where judge and runner share a core each
write is a switch between the two.  Held back, a batch's results go as one ``results``
frame at its end (the batch's nonce once, the results packed together in ``body``: the
judge reads one frame, and knows a whole batch that comes back as it came before).
What the judge then cannot tell is which call is running: were a call to hang or end
its process while earlier results wait here, the judge would charge it to the first
call whose result it lacks.  So the judge is told, and what was held goes first:

- a callback (a frame from the call that runs) goes after the held results, and that
  call's own result goes as soon as it is ready;
- a timer lets them go :data:`FLUSH_AFTER` into the batch, with a ``running`` frame
  naming the call that runs then, and the rest of the batch goes call by call.

A runner lost before the judge was told (a fast crash, or code that took SIGALRM for
itself) leaves the judge unsure: it runs those calls again, one frame each
(:mod:`grader.judge.judge`).
"""

from __future__ import annotations

import signal
from typing import Any, Callable

from grader.protocol import frames
from grader.protocol.channel import Channel

FLUSH_AFTER = 0.05  # seconds into a batch after which its results go as they come
RETRY = 0.001       # the timer fired during a send: again this much later
HOLD_CAP = 1024 * 1024  # bytes of held results past which they go at once


class Holding:
    """Holds the results of one batch at a time on ``channel``; ``send`` sends one reply
    on its own (the runner's, which turns one that cannot be sent into an error)."""

    def __init__(self, channel: Channel, send: Callable[[dict[str, Any]], None]) -> None:
        self.ch = channel
        self.send = send
        self.index = 0        # the call of the batch running now
        self.nonce: Any = None
        self.active = False   # this batch's results are held (but for a told call's)
        self.holding = False  # the running call's result is to be held
        self.kept: list[dict[str, Any]] = []
        self.size = 0
        self.busy = False     # the held results are being changed: the timer waits

    @staticmethod
    def possible() -> bool:
        return hasattr(signal, "setitimer")

    def start(self, nonce: Any) -> None:
        """Hold the results of the batch that starts now (its request's ``nonce``)."""
        try:
            signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, FLUSH_AFTER)
        except (ValueError, OSError):  # not the main thread, or no timer: one by one
            return
        self.nonce, self.index, self.active, self.holding = nonce, 0, True, True

    def _alarm(self, _signum: int, _frame: Any) -> None:
        if not self.active:
            return
        if self.ch.sending or self.busy:  # a frame is half written: not now
            signal.setitimer(signal.ITIMER_REAL, RETRY)
            return
        self.active = False
        if not self.holding:  # a callback told the judge already; the rest go as they come
            return
        self.holding = False
        running = {"op": "running", "index": self.index, "nonce": self.nonce}
        try:
            self._flush(running)
        except Exception:  # noqa: BLE001, S110 - the judge is gone: it knows
            pass

    def result(self, reply: dict[str, Any]) -> None:
        """The running call's result: held, or sent now (after what was held)."""
        self.busy = True
        try:
            size = len(reply.get("value") or b"") + len(reply.get("stdout") or "")
            if self.holding and self.size + size <= HOLD_CAP:
                self.kept.append(reply)
                self.size += size
                return
            self._flush()
        finally:
            self.busy = False
        self.send(reply)

    def told(self) -> None:
        """A frame from the running call is about to go: what was held goes first, and
        this call's result goes as soon as it is ready."""
        self.busy = True
        try:
            self._flush()
            self.holding = False
        finally:
            self.busy = False

    def next_call(self, index: int) -> None:
        """Call ``index`` of the batch starts: hold its result, unless the timer spoke."""
        self.index = index
        self.holding = self.active

    def stop(self) -> None:
        """The batch is over: its results go now."""
        self.busy = True
        try:
            if self.active:
                self.active = False
                try:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                except (ValueError, OSError):
                    pass
            self.holding = False
            self._flush()
        finally:
            self.busy = False

    def _flush(self, then: dict[str, Any] | None = None) -> None:
        """Send the held results as one frame (each on its own if they cannot go so),
        and ``then`` in the same write."""
        kept, self.kept, self.size = self.kept, [], 0
        out: list[dict[str, Any]] = []
        if kept:
            try:
                out.append({"op": "results", "nonce": self.nonce, "body": frames.packb(kept)})
            except frames.WireError:
                for reply in kept:
                    self.send(reply)
        if then is not None:
            out.append(then)
        if out:
            self.ch.send(*out)
