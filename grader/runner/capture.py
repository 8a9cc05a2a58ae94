"""What a runner keeps of a call besides its value: printed output (capped), where an
exception happened, an import that runs out of time, and the threads left behind."""

from __future__ import annotations

import io
import os
import signal
import sys
import warnings
from typing import Any

import numpy as np  # bound here, once: a submission may replace sys.modules["numpy"]

OUTPUT_CAP = 64 * 1024


def threads_possible() -> bool:
    """False where this process can start no thread at all: RLIMIT_NPROC is 0 and it is
    not root (whom the limit does not bind).  Then no call can leave one behind."""
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_NPROC)[0] != 0 or os.geteuid() == 0
    except (ImportError, AttributeError, OSError, ValueError):
        return True


def thread_count() -> int:
    """Threads of this process: the kernel's count where /proc tells, else Python's."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()



class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def write(self, s: Any) -> int:
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def writable(self) -> bool:
        return True

    def reset(self) -> None:
        self.parts, self.size, self.dropped = [], 0, 0

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output dropped]"
        return out




class ImportTimeout(BaseException):
    """Raised in the submission's module code when its import runs out of time."""


class import_limit:
    """Stop an import that runs longer than ``seconds`` (where the platform has
    SIGALRM), so the judge learns the line it was stuck on; the judge's own deadline
    stays the backstop (code that swallows the exception, a long call into C)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds if hasattr(signal, "setitimer") else 0.0

    def __enter__(self) -> None:
        if self.seconds > 0:
            self.saved = signal.signal(signal.SIGALRM, self._stop)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    @staticmethod
    def _stop(_signum: int, _frame: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0.5)  # again, should the code swallow it
        raise ImportTimeout("the import did not finish in time")

    def __exit__(self, *exc: object) -> None:
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.saved)


def error_column(e: BaseException, filename: str) -> int | None:
    """The 1-based column of the innermost frame of ``e`` in ``filename`` (Python 3.11+)."""
    tb, mine = e.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            mine = tb
        tb = tb.tb_next
    if mine is None or not hasattr(mine.tb_frame.f_code, "co_positions"):
        return None
    for k, pos in enumerate(mine.tb_frame.f_code.co_positions()):
        if k == mine.tb_lasti // 2:
            return pos[2] + 1 if pos[2] is not None else None
    return None


class captured:
    """Send ``sys.stdout`` and ``sys.stderr`` to ``out`` meanwhile."""

    def __init__(self, out: CappedWriter) -> None:
        self.out = out

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


class CallScope:
    """What every call of a batch runs under, set up once for the batch: printed output
    captured (per call, capped), every warning recorded, numpy's floating-point errors
    reported as warnings.  :meth:`begin` puts back whatever the previous call changed
    (``sys.stdout``, the warning filters or hook, numpy's error state), so each call
    starts as if the scope were new; :meth:`end` gives the call's output and warnings."""

    ERRSTATE = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}

    def __enter__(self) -> CallScope:
        self.out = CappedWriter()
        self._capture = captured(self.out)
        self._capture.__enter__()
        self._warnings = warnings.catch_warnings(record=True)
        self.log: list[Any] = self._warnings.__enter__()  # type: ignore[assignment]
        warnings.simplefilter("always")
        self._filters = list(warnings.filters)
        self._hooks = (warnings.showwarning, warnings._showwarnmsg_impl)  # type: ignore[attr-defined]
        self._errstate = np.errstate(**self.ERRSTATE)  # type: ignore[arg-type]
        self._errstate.__enter__()
        self._state = np.geterr()
        return self

    def begin(self) -> None:
        out = self.out
        if sys.stdout is not out or sys.stderr is not out:
            sys.stdout = sys.stderr = out  # type: ignore[assignment]
        if warnings.filters != self._filters:
            warnings.filters[:] = self._filters  # type: ignore[index]
            warnings._filters_mutated()  # type: ignore[attr-defined]
        if (warnings.showwarning, warnings._showwarnmsg_impl) != self._hooks:  # type: ignore[attr-defined]
            warnings.showwarning, warnings._showwarnmsg_impl = self._hooks  # type: ignore[attr-defined]
        if np.geterr() != self._state:
            np.seterr(**self._state)
        out.reset()
        del self.log[:]

    def end(self) -> tuple[str, list[str]]:
        return self.out.text(), [f"{x.category.__name__}: {x.message}" for x in self.log[:20]]

    def __exit__(self, *exc: object) -> None:
        self._errstate.__exit__(None, None, None)
        self._warnings.__exit__(None, None, None)
        self._capture.__exit__()
