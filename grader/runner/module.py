"""The submission as a module in the runner: loading it (a ``.py`` as one unit, a
notebook cell by cell), the course's given code, its exceptions described as data, and
the threads it must not leave behind."""

from __future__ import annotations

import linecache
import types
import warnings
from typing import Any

from grader.protocol.channel import Channel
from grader.protocol.compiled import load_units
from grader.runner.capture import (
    CappedWriter,
    ImportTimeout,
    captured,
    error_column,
    import_limit,
    thread_count,
)

TRACE_CAP = 4 * 1024


class ModuleHost:
    """What a runner holds of the submission, and how it loads it."""

    ch: Channel
    module: types.ModuleType | None
    filename: str
    originals: dict[str, Any]
    cut_short: str
    threads: int
    finished: bool

    def _stray_threads(self, what: str) -> dict[str, Any] | None:
        """Threads must end with the call that started them: one left running ends the runner.

        (Where a runner cannot start threads at all, RLIMIT_NPROC stops them first.)
        """
        extra = thread_count() - self.threads
        if extra <= 0:
            return None
        self.finished = True
        return {"type": "ThreadError", "line": None,
                "message": f"{what} left {extra} thread{'s' * (extra > 1)} running; threads "
                           "must finish before the function returns (this runner was stopped)"}

    # ------------------------------------------------------------------ load
    def _load(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Execute the submission as a module.

        A ``.py`` file runs as one unit: an exception at import fails the load, and
        ``sys.exit()`` ends it there, as when Python runs the file (what it defined so far
        is graded; a function defined after it is reported as never defined).  A
        notebook runs cell by cell (cells are marked ``# cell N`` by the reader), as
        Jupyter would: a cell that fails is reported in a note and the next cells run.
        """
        self.filename = str(msg.get("filename", "<submission>"))
        # tracebacks read the source from here, never from a file (there is none to find)
        linecache.cache[self.filename] = (len(str(msg.get("code", ""))), None,
                                          str(msg.get("code", "")).splitlines(True),
                                          self.filename)
        mod = types.ModuleType(str(msg.get("module", "submission")))
        mod.__file__ = self.filename
        code = str(msg["code"])
        per_cell = self.filename.endswith(".ipynb")
        units = load_units(msg, code, self.filename)
        out = CappedWriter()
        notes: list[str] = []
        with captured(out), warnings.catch_warnings(record=True), \
                import_limit(float(msg.get("timeout") or 0)):
            warnings.simplefilter("always")
            ran = self._run_units(units, mod, per_cell, notes)
        if isinstance(ran, dict):  # a .py that does not compile
            return ran
        status, error = ran
        self.module = mod
        self.originals = dict(mod.__dict__)
        stray = self._stray_threads("importing the submission")
        if stray is not None and status == "ok":
            status, error = "error", stray
        return {"op": "loaded", "status": status, "error": error, "stdout": out.text(),
                "notes": notes[:50]}

    def _run_units(self, units: list[Any], mod: types.ModuleType, per_cell: bool,
                   notes: list[str]) -> tuple[str, Any] | dict[str, Any]:
        """Execute the compiled units in ``mod``: (status, error), or the reply for a
        ``.py`` that does not compile.  A notebook's failing cell is a note; the next run."""
        status: str = "ok"
        error: Any = None
        for label, compiled in units:
            if isinstance(compiled, dict):  # it did not compile
                err = {"type": str(compiled.get("type")), "line": compiled.get("line"),
                       "message": str(compiled.get("message"))}
                if per_cell:
                    notes.append(f"{label} was skipped: {err['type']}: {err['message']}")
                    continue
                err["column"] = compiled.get("column")
                return {"op": "loaded", "status": "syntax", "error": err, "stdout": ""}
            try:
                exec(compiled, mod.__dict__)  # noqa: S102 - this process exists to run it
            except SystemExit as e:
                if not per_cell:
                    # as when Python runs the file: it stops there, what it defined stays
                    line = self._error(e).get("line")
                    where = f" at line {line}" if line else ""
                    self.cut_short = (f"the submission called sys.exit({repr(e.code)[:40]})"
                                      f"{where} while being imported; the code after it "
                                      "never ran")
                    notes.append(self.cut_short)
                    break
                notes.append(f"{label} called sys.exit(); later cells still ran")
            except ImportTimeout as e:  # the whole load stops: the time is the file's
                status, error = "timeout", self._error(e)
                error["column"] = error_column(e, self.filename)
                break
            except BaseException as e:  # noqa: BLE001 - any failure at import is reported
                err = self._error(e)
                if not per_cell:
                    err["column"] = error_column(e, self.filename)
                    status, error = "error", err
                    break
                notes.append(f"{label} raised {err['type']}: {err['message'][:200]} "
                             "(later cells still ran)")
        return status, error

    def _given(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Re-define provided (ungraded) names from the released exercise's own source."""
        assert self.module is not None
        ns: dict[str, Any] = {"__name__": self.module.__name__}
        try:
            for _label, code in load_units(msg, str(msg["code"]), "<given>"):
                if isinstance(code, dict):
                    raise SyntaxError(str(code.get("message")))
                exec(code, ns)  # noqa: S102
            for name in msg.get("names", []):
                self.module.__dict__[name] = ns[name]
        except BaseException as e:  # noqa: BLE001
            return {"op": "given", "status": "error", "error": self._error(e)}
        return {"op": "given", "status": "ok"}

    def _error(self, e: BaseException) -> dict[str, Any]:
        """An exception as data: its type, message, and the submission's own frames (the
        last five) as a traceback.  The frames are read off the traceback directly:
        ``traceback.extract_tb`` would also work out column positions for every frame,
        the grader's included, which costs more than the call that raised."""
        mine: list[tuple[int, str]] = []
        tb = e.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == self.filename:
                mine.append((tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        line = mine[-1][0] if mine else None
        text = ""
        for lineno, name in mine[-5:]:
            text += f'  File "{self.filename}", line {lineno}, in {name}\n'
            source = linecache.getline(self.filename, lineno).strip()
            if source:
                text += f"    {source}\n"
        try:
            msg = str(e)
        except Exception:  # noqa: BLE001
            msg = "<unprintable message>"
        return {"type": type(e).__name__, "line": line, "message": msg[:1000],
                "traceback": (text + f"{type(e).__name__}: {msg}")[-TRACE_CAP:]}
