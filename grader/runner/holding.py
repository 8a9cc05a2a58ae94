"""A batch's results held back and sent in one write, and what lets them go early.

Sent one by one, each result is a write, and where judge and runner share a core each
write is a switch between the two.  Held back, a batch's results go in one write at its
end.  What the judge then cannot tell is which call is running: were a call to hang or
end its process while earlier results wait here, the judge would charge it to the first
call whose result it lacks.  So the judge is told, and what was held goes along:

- a callback (a frame from the call that runs) takes the held frames with it, and that
  call's own result goes as soon as it is ready;
- a timer lets them go :data:`FLUSH_AFTER` into the batch, with a ``running`` frame
  naming the call that runs then, and the rest of the batch goes call by call.

A runner lost before the judge was told (a fast crash, or code that took SIGALRM for
itself) leaves the judge unsure: it runs those calls again, one frame each
(:mod:`grader.judge.judge`).
"""

from __future__ import annotations

import signal
from typing import Any

from grader.protocol.channel import Channel

FLUSH_AFTER = 0.05  # seconds into a batch after which its results go as they come
RETRY = 0.001       # the timer fired during a send: again this much later


class Holding:
    """Holds the results of one batch at a time on ``channel``."""

    def __init__(self, channel: Channel) -> None:
        self.ch = channel
        self.index = 0        # the call of the batch running now
        self.nonce: Any = None
        self.active = False   # this batch's results are held (but for a told call's)

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
        self.nonce, self.index, self.active = nonce, 0, True
        self.ch.holding = True

    def _alarm(self, _signum: int, _frame: Any) -> None:
        if not self.active:
            return
        if self.ch.sending:  # a frame is half written: not now
            signal.setitimer(signal.ITIMER_REAL, RETRY)
            return
        self.active = False
        if not self.ch.holding:  # a callback told the judge already; the rest go as they come
            return
        self.ch.holding = False
        try:
            self.ch.send({"op": "running", "index": self.index, "nonce": self.nonce})
        except Exception:  # noqa: BLE001, S110 - the judge is gone: it knows
            pass

    def told(self) -> None:
        """A frame from the running call is about to go (it takes the held ones along):
        this call's result goes as soon as it is ready."""
        self.ch.holding = False

    def next_call(self, index: int) -> None:
        """Call ``index`` of the batch starts: hold its result, unless the timer spoke."""
        self.index = index
        self.ch.holding = self.active

    def stop(self) -> None:
        """The batch is over: its results go now."""
        if self.active:
            self.active = False
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
            except (ValueError, OSError):
                pass
        self.ch.holding = False
        self.ch.flush()
