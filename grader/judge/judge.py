"""The judge: drives a runner through an assignment's cases and scores what comes back.

It never imports or executes student code and never unpickles anything from the
runner.  While a student function runs, the runner may call back for the grader's
callables and for substitutes (graded functions the judge computes with the reference);
the judge in turn may call student callables that were passed to a substitute.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from grader.course.spec import Assignment, Item, PreparedCase
from grader.course.submission import Source
from grader.judge.batches import keep_batch, known_batch
from grader.judge.calls import Batch, Call
from grader.judge.captured import capped, with_output, with_plot
from grader.judge.loading import IMPORT_LIMIT, LoadError, load_error, load_fields, not_loaded
from grader.judge.memory import Memory
from grader.judge.replies import answer
from grader.judge.scoring import item_result
from grader.judge.scoring import shares as split_points
from grader.judge.state import GradingRun
from grader.judge.tape import TAPE_ATOL, TAPE_RTOL, Answers, Recorded, depends_on, off_path
from grader.judge.verdict import verdict
from grader.protocol import wire
from grader.protocol.binary import to_binary
from grader.protocol.channel import ChannelClosed, ChannelTimeout
from grader.protocol.compiled import MAGIC, compile_source
from grader.result import CaseResult, Note, Result
from grader.sandbox.affinity import one_core
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.session import Session


class GradingDeadline(Exception):
    """Grading one submission ran past the time it was given as a whole."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"grading took over {seconds:g} s and was stopped (several "
                         "functions that hang?)")
        self.seconds = seconds


class LostTrack(Exception):
    """A runner was lost while a batch's results were held back: which call lost it is
    not known, so those calls run again, one frame each (:mod:`grader.runner.holding`)."""


class Judge:
    """Grades submissions against one loaded assignment."""

    def __init__(self, assignment: Assignment, server: ForkServer | None = None,
                 limits: dict[str, Any] | None = None, time_scale: float = 1.0) -> None:
        self.assignment = assignment
        self.time_scale = time_scale
        self.server = server or ForkServer(assignment.preload, limits, cwd=assignment.root)
        self.load_notes: list[str] = []
        self.memory = Memory(assignment.memo)  # replies and verdicts, across submissions
        # the grader's callables' recorded answers (public cases answered offline)
        self.tape = Recorded(lambda pc: pc.tape, TAPE_RTOL, TAPE_ATOL)
        self.answers = Answers()  # substitutes' recorded answers (public-only grading)
        self._sendable: dict[int, tuple[list[bytes], bytes]] = {}
        self._given_units: list[list[Any]] | None = None
        self._items: dict[str, tuple[Item, list[PreparedCase], dict[int, float]]] = {}
        # calls run with the submission's own helpers, and those run again with substitutes
        # (they did not pass), by function: a correct submission has none run again
        self.own_calls = 0
        self.own_reruns: dict[str, int] = {}
        self.cpu: int | None = None  # the core this judge grades on, and its runners with it
        self.limit: tuple[float, float] | None = None  # (deadline, seconds): see grade()
        # the public cases' data sets, decoded once in the fork server for every runner
        self.server.share([a for pc in assignment.public for a in self._packed(pc)
                           if len(a) >= wire.LARGE and b"__callable__" not in a])

    def sendable(self, pc: PreparedCase) -> tuple[list[bytes], bytes]:
        """A case's arguments as messages carry them: each argument packed on its own
        (arrays as bytes, big integers tagged), so the runner can keep a large one
        decoded; converted once from the prepared form (base64 text, as in JSON files)
        without building the values (no DataFrame is made here)."""
        got = self._sendable.get(id(pc))
        if got is None:
            def convert(tree: Any) -> bytes:
                return wire.pack_value(to_binary(tree))

            got = self._sendable[id(pc)] = ([convert(a) for a in pc.args], convert(pc.kwargs))
        return got

    def _packed(self, pc: PreparedCase) -> list[bytes]:
        args, kwargs = self.sendable(pc)
        return [*args, kwargs]

    MAX_DEATHS = 2  # cases of one function that may end their runner before the rest are
    #                 not run (each costs a fresh runner)

    def reply(self, fn: Callable[..., Any], name: str, payload: bytes, label: str,
              invoker: Callable[[str], Callable[..., Any]] | None = None,
              case: str | None = None) -> dict[str, Any]:
        """``fn``'s answer to a callback, as a ``reply`` message (kept: see
        :func:`grader.judge.replies.answer`)."""
        return answer(self.memory, fn, name, payload, label, invoker, case)

    def save_memo(self) -> None:
        """Keep what this judge learned for the next run (:meth:`Memory.save`)."""
        self.memory.save(self.assignment)

    # ------------------------------------------------------------------ sessions
    def _open(self, run: "GradingRun") -> tuple[Session | None, LoadError | None]:
        """A runner with the submission loaded, or why the file did not load."""
        source = run.source
        if run.units is None:  # compiled once per submission, here (see grader.protocol.compiled)
            run.units = compile_source(source.code, source.filename) or []
        limit = IMPORT_LIMIT * min(self.time_scale, 1.0)
        load: dict[str, Any] = {"op": "load", "code": source.code, "filename": source.filename,
                                "module": self.assignment.module, "timeout": limit * 0.9}
        if run.units:
            load.update(compiled=run.units, magic=MAGIC)
            if not source.filename.endswith(".ipynb") and run.units[0][3] is not None:
                return None, load_error("syntax", run.units[0][3], source.code)
        session = self.server.open(self.cpu)
        try:
            session.send(load)
            msg = session.recv(time.monotonic() + limit)
        except ChannelTimeout:
            session.kill()
            return None, load_error("timeout", None, source.code, limit)
        except (ChannelClosed, wire.WireError):
            session.kill()
            return None, load_error("exited", None, source.code)
        run.output = capped(msg.get("stdout", ""))
        if msg.get("status") != "ok":
            session.kill()
            kind = {"syntax": "syntax", "timeout": "timeout"}.get(str(msg.get("status")),
                                                                  "exception")
            return None, load_error(kind, msg.get("error"), source.code, limit)
        self.load_notes = [str(n)[:300] for n in msg.get("notes", [])][:50]
        return session, None

    # ------------------------------------------------------------------ grading
    def grade(self, source: Source, item_ids: list[str] | None = None,
              curves: bool = False, within: float | None = None) -> Result:
        """Grade ``source``; with ``curves``, also run the public cases' declared curves
        (for ``grade --html``: see :mod:`grader.judge.curves`).  ``within``: seconds for
        the whole submission, past which no call runs and :class:`GradingDeadline` is
        raised (a batch's ``--timeout`` where no parent can stop the grading process, as
        on a cluster).  The judge and the submission's runners share one core meanwhile
        (:mod:`grader.sandbox.affinity`)."""
        self.limit = (time.monotonic() + within, within) if within else None
        try:
            with one_core() as self.cpu:
                return self._grade(source, item_ids, curves)
        finally:
            self.limit = None

    def _grade(self, source: Source, item_ids: list[str] | None, curves: bool) -> Result:
        a = self.assignment
        self.load_notes = []
        items = [a.item(i) for i in item_ids] if item_ids else list(a.items)
        run = GradingRun(source)
        results = []
        for item in items:
            cases, shares = self._cases(item)
            done = self._run_item(run, item, cases)
            case_results = []
            for pc in cases:
                cr = done[id(pc)]
                cr.part = pc.case.part
                cr.max_score = shares[id(pc)]
                cr.score = cr.max_score if cr.passed else 0.0
                case_results.append(cr)
                run.passed[pc.case.func] = run.passed.get(pc.case.func, True) and cr.passed
            results.append(item_result(item, case_results))
        if curves:
            from grader.judge.curves import add_curves

            add_curves(self, run, items, results)
        if run.session is not None:
            run.session.close()
        score = round(sum(r.score for r in results), 6)
        max_score = round(sum(r.max_score for r in results), 6)
        notes = list(source.notes)
        notes += [Note("load", n) for n in self.load_notes if n not in {x.text for x in notes}]
        if not a.full and (a.root / "solutions").is_dir():  # --public-only on a full course
            notes.append(Note("public-only", "--public-only: only the public cases ran"))
        elif not a.full:
            notes.append(Note("public-only", "solutions/ is not here: only the public cases "
                              "ran; the hidden cases run when your submission is graded"))
        return Result(assignment=a.name, version=a.version, submission=source.filename,
                      score=score, max_score=max_score, items=results,
                      mode="full" if a.full else "public", seed=a.seed, notes=notes,
                      output=run.output, **load_fields(run.fatal))

    def _cases(self, item: Item) -> tuple[list[PreparedCase], dict[int, float]]:
        """``item``'s cases, public then hidden, and each one's points (by case id): the
        same for every submission this judge grades."""
        got = self._items.get(item.id)
        if got is None or got[0] is not item:
            a = self.assignment
            cases = [pc for pc in a.public + (a.hidden() if a.full else [])
                     if pc.case.item == item.id]
            got = self._items[item.id] = (item, cases, split_points(item, cases, a))
        return got[1], got[2]

    def _own_helpers(self, run: "GradingRun", item: Item) -> tuple[str, ...]:
        """Substitutes the submission's own versions may stand in for in ``item``: those
        that passed every case of their own items in this run (and have not been found
        to cost another function its case since)."""
        if not item.own_helpers or self.assignment.reference is None:
            return ()
        return tuple(s for s in item.substitutes if run.passed.get(s) is True)

    def _run_item(self, run: "GradingRun", item: Item,
                  cases: list[PreparedCase]) -> dict[int, CaseResult]:
        """Every case of ``item``, as batches of calls to the runner; results by case id.

        A batch that loses its runner (a timeout, a crash, a thread left running) goes
        on in a fresh one with the calls it had not reached.  A call made with the
        submission's own helpers that does not pass (or times out, or ends its runner)
        is run again with substitutes, and that verdict stands.  A batch's results come
        in one frame (held back), unless a runner was lost before it could say which call
        it was in: those calls run again, one frame each.
        """
        done: dict[int, CaseResult] = {}
        own = self._own_helpers(run, item)
        plain: set[int] = set()  # cases to run with substitutes only
        strict: set[int] = set()  # cases whose results come one frame each
        todo = list(cases)
        while todo:
            self._check_limit(run)
            session = self._session_for(run, item)
            if session is None:
                assert run.fatal is not None
                for pc in todo:
                    done[id(pc)] = not_loaded(pc.case.name, pc.case.visibility, run.fatal)
                break
            batch: list[Call] = []
            for pc in todo:
                skip = self._skipped(run, pc)
                if skip is not None:
                    done[id(pc)] = skip
                else:
                    batch.append(Call(self, session, item, pc, len(batch), self.time_scale,
                                      own if id(pc) not in plain else (),
                                      limit=self.limit[0] if self.limit else None))
            if not batch:
                break
            shared = Batch(len(batch), len(batch) > 1 and not any(id(c.pc) in strict
                                                                  for c in batch))
            for call in batch:
                call.batch = shared
            todo = self._run_batch(run, session, batch, (plain, strict), done)
            if not session.alive:  # timed out, died, or asked for a fresh runner
                run.session = None
        return done

    def _check_limit(self, run: "GradingRun") -> None:
        if self.limit is not None and time.monotonic() >= self.limit[0]:
            if run.session is not None:
                run.session.kill()
                run.session = None
            raise GradingDeadline(self.limit[1])

    def _session_for(self, run: "GradingRun", item: Item) -> Session | None:
        """The submission's runner, loaded and holding ``item``'s given names; None when
        the submission cannot be loaded (``run.fatal`` says why)."""
        if run.fatal is None and run.session is None:
            run.session, run.fatal = self._open(run)
            run.gave = ""
        if run.session is not None and item.given and run.gave != item.id:
            self._give(run.session, item)  # if that fails, the first call is charged
            run.gave = item.id
        return run.session

    def _run_batch(self, run: "GradingRun", session: Session, batch: list[Call],
                   marks: tuple[set[int], set[int]],
                   done: dict[int, CaseResult]) -> list[PreparedCase]:
        """Send a batch and judge its results in order; returns the cases to run again
        (own-helper runs that did not pass first, then what a lost runner left).
        ``marks``: the cases to run with substitutes only, and one frame each."""
        plain, strict = marks
        try:
            session.send({"op": "calls", "calls": [c.request() for c in batch],
                          "hold": batch[0].batch.held})
        except (ChannelClosed, ChannelTimeout, wire.WireError):
            session.kill()
        again: list[PreparedCase] = []
        for k, call in enumerate(batch):
            if not session.alive and k:  # the runner is gone: the rest go to a fresh one
                return again + [c.pc for c in batch[k:]]
            try:
                cr = self._judge_call(run, call)
            except GradingDeadline:
                raise
            except LostTrack:  # and whether one of its own helpers ended it is not known
                strict.update(id(c.pc) for c in batch[k:])
                plain.update(id(c.pc) for c in batch[k:] if c.own)
                return again + [c.pc for c in batch[k:]]
            except Exception as e:  # noqa: BLE001 - never crash on what a runner sent
                session.kill()
                pc = call.pc
                cr = CaseResult(pc.case.name, pc.case.visibility, False,
                                f"{pc.case.func} sent something the grader cannot "
                                f"judge ({type(e).__name__})", status="error",
                                check="unjudgeable")
            if cr is None:
                plain.add(id(call.pc))
                again.append(call.pc)
            else:
                done[id(call.pc)] = cr
                if k == 0 and known_batch(self.memory, run, session, batch, done):
                    self.own_calls += sum(bool(c.own) for c in batch[1:])
                    return again
        keep_batch(self.memory, run, session, batch, done)
        return again

    def _judge_call(self, run: "GradingRun", call: Call) -> CaseResult | None:
        """The verdict on one call's outcome; None when it ran with the submission's own
        helpers and did not pass (it runs again with substitutes: a helper's slip must not
        cost this function its case).

        A case that passes with the submission's own helpers stands: its code computed
        what the reference does.  One that passes only with substitutes shows a helper
        that passed its own item but not this use of it; those helpers are not used for
        the rest of the submission (nor are they after a timeout or an ended process).
        """
        pc = call.pc
        out = call.collect()
        if out.status == "timeout" and call.limit is not None and call.deadline >= call.limit:
            self._check_limit(run)  # the whole submission's time ran out, not this call's
        if out.status in ("timeout", "died") and not out.sure:
            raise LostTrack()
        if call.own:
            self.own_calls += 1
            if out.status in ("timeout", "died"):  # a helper may be to blame
                run.passed.update(dict.fromkeys(call.own, False))
                self._again(pc)
                return None
        if out.status == "timeout":
            run.hung.add(pc.case.func)
        elif out.status == "died":
            run.deaths[pc.case.func] = run.deaths.get(pc.case.func, 0) + 1
        cr = out.cached or verdict(pc, out, self.time_scale)
        if out.key is not None and out.cached is None:
            self.memory.keep_verdict(out.key, cr)
        if call.own and not cr.passed:
            run.own_failed[id(pc)] = call.own
            self._again(pc)
            return None
        helpers = run.own_failed.pop(id(pc), ())
        if cr.passed:  # with substitutes only, after it failed with the helpers
            run.passed.update(dict.fromkeys(helpers, False))
        cr = with_output(depends_on(off_path(cr, pc, call.off_path), call.helpers), out.stdout)
        return with_plot(cr, pc, out.value, out.key[1] if out.key else None)

    def _again(self, pc: PreparedCase) -> None:
        """Counted: ``pc`` runs again with substitutes (the caller marks it so)."""
        self.own_reruns[pc.case.func] = self.own_reruns.get(pc.case.func, 0) + 1

    def _skipped(self, run: "GradingRun", pc: PreparedCase) -> CaseResult | None:
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








