"""The judge: drives a runner through an assignment's cases and scores what comes back.

It never imports or executes student code and never unpickles anything from the
runner.  While a student function runs, the runner may call back for the grader's
callables and for substitutes (graded functions the judge computes with the reference);
the judge in turn may call student callables that were passed to a substitute.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from grader.course.spec import Assignment, Item, PreparedCase
from grader.course.submission import Source
from grader.judge.compare import Mismatch, compare, same_entries_reordered
from grader.judge.feedback import describe_call, format_value, table_for
from grader.protocol import wire
from grader.protocol.channel import ChannelClosed, ChannelTimeout
from grader.protocol.compiled import MAGIC, compile_source
from grader.result import CaseResult, ItemResult, Note, Result, item_status
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.session import Session

LOAD_TIMEOUT = 60.0


class StudentCallableError(Exception):
    """A student callable that the judge invoked (through a substitute) failed."""


@dataclass
class Outcome:
    status: str                       # ok | missing | undefined | error | timeout | died
    value: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    key: tuple[Any, ...] | None = None      # (case, packed returned value, recorded calls)
    cached: CaseResult | None = None        # the verdict on this very value, seen before
    own: Any = None                         # the log of the submission's own helpers' calls


class _Call:
    """One call of a student function, with the callbacks it makes.

    Calls go to the runner in batches (:meth:`request` gives this one's entry); the
    judge then collects their results in order (:meth:`collect`), answering callbacks
    meanwhile.
    ``own`` names graded functions the submission's own versions stand in for, because
    they already passed their items: the runner logs their calls and :meth:`Judge._own_valid`
    checks the log against the reference.
    """

    def __init__(self, judge: "Judge", session: Session, item: Item, pc: PreparedCase,
                 index: int, time_scale: float = 1.0, own: tuple[str, ...] = ()) -> None:
        self.judge = judge
        self.session = session
        self.item = item
        self.pc = pc
        self.index = index
        self.timeout = pc.case.timeout * time_scale
        self.deadline = 0.0
        self.own = tuple(s for s in own if s != pc.case.func)
        self.calls: list[tuple[str, Any]] = []

    def request(self) -> dict[str, Any]:
        c = self.pc.case
        args, kwargs = self.judge.sendable(self.pc)
        req = {"func": c.func, "args": args, "kwargs": kwargs,
               "substitutes": [s for s in self.item.substitutes
                               if s != c.func and s not in self.own]}
        if self.own:
            req["own"] = list(self.own)
        return req

    def collect(self) -> Outcome:
        """Wait for this call's result (its time limit starts now: the runner starts it
        when the previous one's result goes out)."""
        self.deadline = time.monotonic() + self.timeout
        try:
            msg = self._serve_until("result")
            if msg.get("index") != self.index:
                raise wire.WireError("a result arrived out of order")
        except ChannelTimeout:
            self.session.kill()
            return Outcome("timeout", calls=self.calls)
        except (ChannelClosed, wire.WireError) as e:
            self.session.kill()
            return Outcome("died", error={"message": str(e)}, calls=self.calls)
        status = str(msg.get("status", "error"))
        out = Outcome(status, stdout=str(msg.get("stdout", ""))[:65536],
                      warnings=[str(w)[:300] for w in msg.get("warnings", [])][:20],
                      error=_clean_error(msg.get("error")), calls=self.calls,
                      own=msg.get("own"))
        if status == "ok":
            c = self.pc.case
            if isinstance(msg.get("value"), bytes) and not (c.no_warnings and out.warnings):
                # the same returned value (and recorded calls) always gets the same verdict
                out.key = (id(self.pc), msg.get("value"),
                           *(p for n, p in self.calls if n in c.record))
                cached = self.judge.verdicts.get(out.key)
                if cached is not None:
                    out.cached = dataclasses.replace(cached)
                    return out
            try:
                out.value = wire.Decoder().decode(wire.unpack_value(msg.get("value")))
            except Exception as e:  # noqa: BLE001 - the runner's data is untrusted
                out.status, out.error = "error", {"type": "WireError", "message":
                                                  f"the returned value cannot be read: {e}"}
        return out

    def _serve_until(self, op: str) -> dict[str, Any]:
        while True:
            msg = self.session.recv(self.deadline)
            got = msg.get("op")
            if got == op:
                return msg
            if got == "callback":
                self.session.send(self._answer(msg))
            else:
                raise wire.WireError(f"unexpected message {got!r} from the runner")

    def _answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        name = str(msg.get("name"))
        payload = msg.get("args")
        if not isinstance(payload, bytes):
            return {"op": "reply", "error": "malformed callback"}
        ref = self.judge.assignment.reference
        if name in self.item.substitutes and name != self.pc.case.func:
            if ref is None or not callable(getattr(ref, name, None)):
                return {"op": "reply", "fallback": True}
            return self.judge.reply(getattr(ref, name), name, payload,
                                    f"{name} (the grader's reference, standing in for yours)",
                                    self._invoker)
        if name in self.pc.callables:
            self.calls.append((name, payload))
            fn = self.pc.callables[name]
            if fn is None:
                return self._from_tape(name, payload)
            return self.judge.reply(fn, name, payload, f"{name} (the grader's callable)",
                                    self._invoker, case=id(self.pc))
        return {"op": "reply", "error": f"unknown callable {name!r}"}

    def _from_tape(self, name: str, payload: bytes) -> dict[str, Any]:
        exact = self.judge.tape_index(self.pc).get((name, payload))
        if exact is not None:
            return {"op": "reply", "value": exact}
        try:
            args = wire.decode(wire.unpack_value(payload))
        except wire.WireError as e:
            return {"op": "reply", "error": str(e)}
        for entry in self.pc.tape:
            if entry["name"] != name:
                continue
            if compare(args, wire.decode(entry["args"]), 1e-9, 1e-12) is None:
                return {"op": "reply", "value": wire.pack_value(entry["value"])}
        return {"op": "reply", "error": f"{name} was called with arguments the reference never "
                "passes: your path has left the expected one by this call"}

    def _invoker(self, handle: str) -> Callable[..., Any]:
        def invoke(*args: Any, **kwargs: Any) -> Any:
            self.session.send({"op": "invoke", "handle": handle,
                               "args": wire.encode([list(args), kwargs])})
            msg = self._serve_until("invoked")
            if "error" in msg:
                raise StudentCallableError(str(msg["error"])[:500])
            return wire.Decoder().decode(msg.get("value"))

        return invoke


@dataclass
class _Run:
    """The state of grading one submission: its runner, and what earlier cases showed."""

    source: Source
    units: list[list[Any]] | None = None  # the compiled source (protocol.compiled); [] if not
    session: Session | None = None
    fatal: CaseResult | None = None   # the submission cannot be loaded: every case says so
    gave: str = ""                    # the item whose given names the runner holds
    hung: set[str] = field(default_factory=set)         # functions that timed out
    deaths: dict[str, int] = field(default_factory=dict)  # function -> runners it ended
    passed: dict[str, bool] = field(default_factory=dict)  # function -> all its cases pass


def _clean_error(e: Any) -> dict[str, Any]:
    if not isinstance(e, dict):
        return {}
    return {"type": str(e.get("type", ""))[:100], "line": e.get("line"),
            "message": str(e.get("message", ""))[:1000],
            "traceback": str(e.get("traceback", ""))[:4096]}


class Judge:
    """Grades submissions against one loaded assignment."""

    def __init__(self, assignment: Assignment, server: ForkServer | None = None,
                 limits: dict[str, Any] | None = None, time_scale: float = 1.0) -> None:
        self.assignment = assignment
        self.time_scale = time_scale
        self.server = server or ForkServer(assignment.preload, limits, cwd=assignment.root)
        self.load_notes: list[str] = []
        # replies of the reference to substitute calls, and verdicts on returned values,
        # kept across submissions: a batch of correct submissions mostly repeats them
        self.replies: dict[Any, dict[str, Any]] = {}
        self.verdicts: dict[tuple[Any, ...], CaseResult] = {}
        self._tapes: dict[int, dict[tuple[str, bytes], bytes]] = {}
        self._sendable: dict[int, tuple[list[bytes], bytes]] = {}
        self._given_units: list[list[Any]] | None = None

    def sendable(self, pc: PreparedCase) -> tuple[list[bytes], bytes]:
        """A case's arguments as messages carry them: each argument packed on its own
        (arrays as bytes, big integers tagged), so the runner can keep a large one
        decoded; converted once from the prepared form (base64 text, as in JSON files)."""
        got = self._sendable.get(id(pc))
        if got is None:
            def convert(tree: Any) -> bytes:
                value = wire.Decoder(allow_dataframe=True).decode(tree)
                return wire.pack_value(wire.Encoder(dataframes=True).encode(value))

            got = self._sendable[id(pc)] = ([convert(a) for a in pc.args], convert(pc.kwargs))
        return got

    def tape_index(self, pc: PreparedCase) -> dict[tuple[str, bytes], bytes]:
        """(name, packed arguments) -> the packed value, for a case's tape, packed as the
        runner packs them: the arguments the reference passed match exactly, without a
        scan."""
        index = self._tapes.get(id(pc))
        if index is None:
            index = {}
            for entry in pc.tape:
                args = wire.pack_value(wire.encode(wire.decode(entry["args"])))
                index.setdefault((str(entry["name"]), args),
                                 wire.pack_value(wire.encode(wire.decode(entry["value"]))))
            self._tapes[id(pc)] = index
        return index

    CACHE_LIMIT = 50_000
    MAX_DEATHS = 2  # cases of one function that may end their runner before the rest are
    #                 not run (each costs a fresh runner)

    def reply(self, fn: Callable[..., Any], name: str, payload: bytes, label: str,
              invoker: Callable[[str], Callable[..., Any]] | None = None,
              case: int | None = None) -> dict[str, Any]:
        """``fn``'s answer to a callback, as a ``reply`` message.

        The reference and the grader's callables are deterministic: the same arguments
        get the same reply, so replies are kept (per case for the grader's callables,
        ``case``), keyed by the packed arguments.  Arguments that hold a student
        callable are never kept (its results are the student's).
        """
        key = None
        if b"__callable__" not in payload:
            key = (name, payload) if case is None else (case, name, payload)
            hit = self.replies.get(key)
            if hit is not None:
                return hit
        dec = wire.Decoder(on_callable=invoker, allow_dataframe=True)
        try:
            args, kwargs = dec.decode(wire.unpack_value(payload))
            value = fn(*args, **dict(kwargs))
            reply = {"op": "reply", "value": wire.pack_value(wire.encode(value)),
                     "rng_states": [wire.generator_state(g) for g in dec.rngs]}
            if key is not None:
                self.remember(key, reply)
            return reply
        except (ChannelTimeout, ChannelClosed):
            raise
        except StudentCallableError as e:
            return {"op": "reply", "error": str(e)}
        except Exception as e:  # noqa: BLE001 - bad arguments from the student
            return {"op": "reply", "error": f"{label} failed on the arguments your code passed: "
                                            f"{type(e).__name__}: {str(e)[:300]}"}

    def _own_valid(self, call: _Call, out: Outcome) -> str | None:
        """None when every logged call of the submission's own helpers gave exactly what
        the reference gives on the same arguments (the same packed value: same types,
        shapes and bits; the same generator states after), so the call ran exactly as it
        would have with substitutes; else the name of the first helper that did not."""
        ref = self.assignment.reference
        log = out.own
        if not isinstance(log, list):
            return call.own[0] if call.own else None
        for entry in log:
            if not isinstance(entry, dict) or str(entry.get("name")) not in call.own:
                return call.own[0]
            name = str(entry["name"])
            fn = getattr(ref, name, None)
            if entry.get("raised") or not isinstance(entry.get("args"), bytes) or fn is None:
                return name
            reply = self.reply(fn, name, entry["args"], name)
            if ("error" in reply or entry.get("value") != reply["value"]
                    or entry.get("rng_states", []) != reply["rng_states"]):
                return name
        return None

    def remember(self, key: Any, reply: dict[str, Any]) -> None:
        if len(self.replies) >= self.CACHE_LIMIT:
            self.replies.clear()
        self.replies[key] = reply

    # ------------------------------------------------------------------ sessions
    def _open(self, run: "_Run") -> tuple[Session | None, CaseResult | None]:
        source = run.source
        if run.units is None:  # compiled once per submission, here (see grader.protocol.compiled)
            run.units = compile_source(source.code, source.filename) or []
        load: dict[str, Any] = {"op": "load", "code": source.code, "filename": source.filename,
                                "module": self.assignment.module}
        if run.units:
            load.update(compiled=run.units, magic=MAGIC)
            if not source.filename.endswith(".ipynb") and run.units[0][3] is not None:
                return None, self._load_failed("syntax", run.units[0][3])
        session = self.server.open()
        try:
            session.send(load)
            msg = session.recv(time.monotonic() + LOAD_TIMEOUT)
        except ChannelTimeout:
            session.kill()
            return None, CaseResult("import", "public", False,
                                    f"importing the submission took over {LOAD_TIMEOUT:g} s "
                                    "(an infinite loop or heavy work at module level?)",
                                    status="timeout", check="load")
        except (ChannelClosed, wire.WireError):
            session.kill()
            return None, CaseResult("import", "public", False,
                                    "the submission exited or crashed while being imported "
                                    "(os._exit, sys.exit, or the memory limit at module level?)",
                                    status="error", check="load")
        if msg.get("status") != "ok":
            session.kill()
            return None, self._load_failed(str(msg.get("status")), msg.get("error"))
        self.load_notes = [str(n)[:300] for n in msg.get("notes", [])][:50]
        return session, None

    @staticmethod
    def _load_failed(status: str, error: Any) -> CaseResult:
        err = _clean_error(error)
        where = f" at line {err['line']}" if err.get("line") else ""
        what = "has a syntax error" if status == "syntax" else "fails to import"
        return CaseResult("import", "public", False,
                          f"the submission {what}{where}: {err.get('type')}: "
                          f"{err.get('message')}", status="error",
                          details=err.get("traceback", ""), check="load")

    # ------------------------------------------------------------------ grading
    def grade(self, source: Source, item_ids: list[str] | None = None) -> Result:
        a = self.assignment
        self.load_notes = []
        items = [a.item(i) for i in item_ids] if item_ids else list(a.items)
        hidden = a.hidden() if a.full else []
        run = _Run(source)
        by_item: dict[str, list[PreparedCase]] = {}
        for pc in a.public + hidden:
            by_item.setdefault(pc.case.item, []).append(pc)
        results = []
        for item in items:
            cases = by_item.get(item.id, [])
            shares = _shares(item, cases, a)
            done = self._run_item(run, item, cases)
            case_results = []
            for pc in cases:
                cr = done[id(pc)]
                cr.part = pc.case.part
                cr.max_score = shares[id(pc)]
                cr.score = cr.max_score if cr.passed else 0.0
                case_results.append(cr)
                run.passed[pc.case.func] = run.passed.get(pc.case.func, True) and cr.passed
            results.append(self._item_result(item, case_results))
        if run.session is not None:
            run.session.close()
        score = round(sum(r.score for r in results), 6)
        max_score = round(sum(r.max_score for r in results), 6)
        notes = list(source.notes)
        notes += [Note("load", n) for n in self.load_notes if n not in {x.text for x in notes}]
        if not a.full:
            notes.append(Note("public-only", "solutions/ is not here: only the public cases "
                              "ran; the hidden cases run when your submission is graded"))
        return Result(assignment=a.name, version=a.version, submission=source.filename,
                      score=score, max_score=max_score, items=results,
                      mode="full" if a.full else "public", seed=a.seed, notes=notes,
                      load_error=run.fatal.message if run.fatal is not None else "")

    def _own_helpers(self, run: "_Run", item: Item) -> tuple[str, ...]:
        """Substitutes the submission's own versions may stand in for in ``item``: those
        that passed every case of their own items in this run (checked call by call)."""
        if not item.own_helpers or self.assignment.reference is None:
            return ()
        return tuple(s for s in item.substitutes if run.passed.get(s) is True)

    def _run_item(self, run: "_Run", item: Item,
                  cases: list[PreparedCase]) -> dict[int, CaseResult]:
        """Every case of ``item``, as batches of calls to the runner; results by case id.

        A batch that loses its runner (a timeout, a crash, a thread left running) goes
        on in a fresh one with the calls it had not reached.  A call made with the
        submission's own helpers whose log does not check out, or that times out or ends
        its runner, is run again with substitutes.
        """
        done: dict[int, CaseResult] = {}
        own = self._own_helpers(run, item)
        plain: set[int] = set()  # cases to run with substitutes only
        todo = list(cases)
        while todo:
            if run.fatal is None and run.session is None:
                run.session, run.fatal = self._open(run)
                run.gave = ""
            if run.fatal is not None:
                for pc in todo:
                    done[id(pc)] = CaseResult(pc.case.name, pc.case.visibility, False,
                                              run.fatal.message, status=run.fatal.status,
                                              details=run.fatal.details, check="load")
                break
            session = run.session
            assert session is not None
            if item.given and run.gave != item.id:
                self._give(session, item)  # if that fails, the first call is charged
                run.gave = item.id
            batch: list[_Call] = []
            for pc in todo:
                skip = self._skipped(run, pc)
                if skip is not None:
                    done[id(pc)] = skip
                else:
                    batch.append(_Call(self, session, item, pc, len(batch), self.time_scale,
                                       () if id(pc) in plain else own))
            todo = []
            if not batch:
                break
            try:
                session.send({"op": "calls", "calls": [c.request() for c in batch]})
            except (ChannelClosed, ChannelTimeout, wire.WireError):
                session.kill()
            again: list[PreparedCase] = []
            for k, call in enumerate(batch):
                pc = call.pc
                if not session.alive and k:  # the runner is gone: the rest go to a fresh one
                    todo = [c.pc for c in batch[k:]]
                    break
                try:
                    out = call.collect()
                    if call.own:
                        # a run with the submission's own helpers stands only if it went as
                        # it would have with substitutes; else it runs again with them
                        if out.status in ("timeout", "died"):  # a helper may be to blame
                            bad: list[str] = list(call.own)
                        else:
                            first = self._own_valid(call, out)
                            bad = [first] if first is not None else []
                        if bad:
                            run.passed.update(dict.fromkeys(bad, False))
                            plain.add(id(pc))
                            again.append(pc)
                            continue
                    if out.status == "timeout":
                        run.hung.add(pc.case.func)
                    elif out.status == "died":
                        run.deaths[pc.case.func] = run.deaths.get(pc.case.func, 0) + 1
                    cr = out.cached or self.verdict(pc, out)
                    if out.key is not None and out.cached is None:
                        if len(self.verdicts) >= self.CACHE_LIMIT:
                            self.verdicts.clear()
                        self.verdicts[out.key] = dataclasses.replace(cr)
                except Exception as e:  # noqa: BLE001 - never crash on what a runner sent
                    session.kill()
                    cr = CaseResult(pc.case.name, pc.case.visibility, False,
                                    f"{pc.case.func} sent something the grader cannot "
                                    f"judge ({type(e).__name__})", status="error",
                                    check="unjudgeable")
                done[id(pc)] = cr
            if not session.alive:  # timed out, died, or asked for a fresh runner
                run.session = None
            todo = again + todo
        return done

    def _skipped(self, run: "_Run", pc: PreparedCase) -> CaseResult | None:
        func = pc.case.func
        if func in run.hung:
            return CaseResult(pc.case.name, pc.case.visibility, False,
                              f"not run: {func} already ran out of time on an earlier case",
                              status="timeout", check="not run")
        if run.deaths.get(func, 0) >= self.MAX_DEATHS:
            return CaseResult(pc.case.name, pc.case.visibility, False,
                              f"not run: {func} already ended its process on "
                              f"{self.MAX_DEATHS} earlier cases", status="error",
                              check="not run")
        return None

    def _give(self, session: Session, item: Item) -> None:
        if self._given_units is None:  # the course's own code: compiled once per judge
            self._given_units = compile_source(self.assignment.given_source, "<given>") or []
        msg: dict[str, Any] = {"op": "given", "code": self.assignment.given_source,
                               "names": list(item.given)}
        if self._given_units:
            msg.update(compiled=self._given_units, magic=MAGIC)
        try:
            session.send(msg)
            session.recv(time.monotonic() + 10)
        except (ChannelClosed, ChannelTimeout, wire.WireError):
            session.kill()

    def _item_result(self, item: Item, cases: list[CaseResult]) -> ItemResult:
        status = item_status(cases)
        score = round(sum(c.score for c in cases), 6)
        max_score = round(sum(c.max_score for c in cases), 6)
        failing = [c for c in cases if not c.passed]
        if not failing:
            feedback = "all cases pass"
        else:
            first = next((c for c in failing if c.visibility == "public"), failing[0])
            more = len(failing) - 1
            feedback = first.message + (f" (+{more} more failing case{'s' * (more > 1)})"
                                        if more else "")
        return ItemResult(item.id, item.title, score, max_score, status, feedback, cases)

    # ------------------------------------------------------------------ verdicts
    def verdict(self, pc: PreparedCase, out: Outcome) -> CaseResult:
        c = pc.case
        public = c.visibility == "public"
        name = c.name

        def fail(status: str, message: str, details: str = "", check: str = "",
                 diagnosis: str = "") -> CaseResult:
            return CaseResult(name, c.visibility, False, message, status=status,
                              details=details if public else "", check=check or status,
                              diagnosis=diagnosis)

        err = out.error
        line = f" (line {err['line']})" if err.get("line") else ""
        if out.status == "timeout":
            return fail("timeout", f"{c.func} did not finish within "
                                   f"{c.timeout * self.time_scale:g} s "
                                   "(an infinite loop?)")
        if out.status == "died":
            return fail("error", f"the process running {c.func} died during the call "
                                 "(os._exit, a crash, or the memory limit)", check="died")
        if out.status == "undefined":
            return fail("missing", f"{c.func} is not defined in your submission",
                        check="undefined")
        if out.status == "missing":
            return fail("missing", f"{c.func} is not implemented yet (it raises "
                                   f"NotImplementedError{line})", check="not implemented")
        if out.status != "ok":
            raised = f"raised {err.get('type')}"
            if public:
                return fail("error", f"{c.func} {raised}{line}: "
                                     f"{err.get('message', '')[:300]}",
                            describe_call(pc) + "\n" + err.get("traceback", ""), check=raised)
            return fail("error", f"{c.func} {raised}{line} on a hidden case", check=raised)
        if c.no_warnings:
            runtime = [w for w in out.warnings if w.startswith("RuntimeWarning")]
            if runtime:
                return fail("failed", f"{name}: a RuntimeWarning escaped ({runtime[0][:120]}); "
                                      "use a numerically stable form", describe_call(pc),
                            check="RuntimeWarning")
        # the calls first: a wrong call (another draw, say) is why the value is wrong
        for rec_name in c.record:
            got_calls = [wire.decode(wire.unpack_value(p)) for n, p in out.calls if n == rec_name]
            exp_calls = [wire.decode(p) for p in (pc.expected_calls or {}).get(rec_name, [])]
            m = compare(got_calls, exp_calls, c.rtol, c.atol)
            if m is not None:
                diag = c.reordered if c.reordered and same_entries_reordered(
                    _int_arrays(got_calls), _int_arrays(exp_calls)) else ""
                msg = f"{name}: the calls to {rec_name} differ from the expected ones"
                msg += f" — {diag}" if diag else f" ({m.describe('calls')})"
                return fail("failed", msg, check=f"calls to {rec_name}", diagnosis=diag)
        got = out.value
        if c.check is not None:
            ok, msg = c.check(got)
            if not ok:
                return fail("failed", f"{name}: {msg}", check="property")
        else:
            exp = wire.Decoder().decode(pc.expected)
            m = compare(got, exp, c.rtol, c.atol, c.scalar_ok)
            if m is not None:
                self._diagnose(m, got, exp, pc)
                return self._mismatch(pc, m, got, exp)
        return CaseResult(name, c.visibility, True, "ok", status="passed")

    def _diagnose(self, m: Mismatch, got: Any, exp: Any, pc: PreparedCase) -> None:
        for message, alt in pc.alternatives:
            if compare(got, wire.decode(alt), pc.case.rtol, pc.case.atol,
                       pc.case.scalar_ok) is None:
                m.diagnosis = message
                return
        if not m.diagnosis and pc.case.reordered and same_entries_reordered(got, exp):
            m.diagnosis = pc.case.reordered

    def _mismatch(self, pc: PreparedCase, m: Mismatch, got: Any, exp: Any) -> CaseResult:
        c = pc.case
        if c.visibility == "hidden":
            text = f"hidden case {c.name}: " + m.describe(f"{c.func}(...)")
            return CaseResult(c.name, "hidden", False, text, status="failed",
                              diagnosis=m.diagnosis, check=m.kind)
        text = f"{c.name}: " + m.describe(c.func)
        if m.kind in ("value", "nonfinite", "shape") and m.path:
            text += f"; expected {format_value(m.expected, 60)}, got {format_value(m.got, 60)}"
        elif m.kind in ("value", "nonfinite"):
            text += f"; expected {format_value(exp, 60)}, got {format_value(got, 60)}"
        details = describe_call(pc)
        tab = table_for(got, exp, c.labels)
        details += "\n" + (tab or f"expected: {format_value(exp, 2000)}\n"
                                  f"returned: {format_value(got, 2000)}")
        if c.note:
            details += "\n" + c.note
        return CaseResult(c.name, "public", False, text, status="failed", details=details,
                          diagnosis=m.diagnosis, check=m.kind)


def _int_arrays(calls: list[Any]) -> list[np.ndarray]:
    """The integer arrays among recorded calls' arguments: the index batches a callback
    was handed, to compare as a draw (``Case.reordered``)."""
    out: list[np.ndarray] = []
    for call in calls:
        args = call[0] if isinstance(call, (list, tuple)) and call else []
        for a in args:
            if isinstance(a, np.ndarray) and a.dtype.kind in "iu":
                out.append(a)
    return out


def _shares(item: Item, cases: list[PreparedCase], a: Assignment) -> dict[int, float]:
    """Points of each case: the item's points over its parts, a part's over its cases.

    The one place where points are split.  Parts take ``item.parts`` weights (equal when
    absent); within a part, cases share by weight; public-only grading knows the hidden
    weights from the public file and so scores out of the public share.
    """
    parts: list[str] = list(item.parts) if item.parts else []
    for pc in cases:
        if pc.case.part not in parts:
            parts.append(pc.case.part)
    weights = {p: float(item.parts.get(p, 1.0)) for p in parts}
    total = sum(weights.values()) or 1.0
    part_weight: dict[str, float] = {}
    for pc in cases:
        part_weight[pc.case.part] = part_weight.get(pc.case.part, 0.0) + pc.case.weight
    if not a.full:
        for (iid, part), w in a.hidden_weights.items():
            if iid == item.id and part in part_weight:
                part_weight[part] += w
    return {id(pc): round(item.points * weights[pc.case.part] / total * pc.case.weight
                          / part_weight[pc.case.part], 9) for pc in cases}
