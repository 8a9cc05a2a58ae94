"""Whole batches judged before: a batch whose results came back in one frame, byte for
byte as an earlier batch of the same calls whose every verdict was a pass, has those
verdicts again (kept in :class:`grader.judge.memory.Memory`, in memory only).

A verdict follows from the case and what came back (the value's bytes, the output, the
warnings, the error), and here nothing else can have a part in it: such a batch asked
the judge nothing while it ran (a callback lets the held results go, so they do not come
in one frame), and no case of it is waiting to tell whether its helpers are to blame
(:func:`grader.judge.judge.Judge._judge_call`).
"""

from __future__ import annotations

from typing import Any

from grader.judge.calls import Call
from grader.judge.memory import Memory
from grader.judge.state import GradingRun
from grader.result import CaseResult
from grader.sandbox.session import Session


def batch_key(memory: Memory, run: GradingRun, session: Session,
              batch: list[Call]) -> tuple[Any, ...] | None:
    """What a whole batch's verdicts follow from: its cases, the own helpers each ran
    with, and the runner's one frame of results (exact bytes); None when its results did
    not come so, or a case of it failed with the submission's own helpers before."""
    body = session.whole
    if (body is None or len(batch) < 2 or len(body) > memory.BATCH_BYTES
            or any(id(c.pc) in run.own_failed for c in batch)):
        return None
    return (tuple((c.pc.ref, c.own) for c in batch), body)


def known_batch(memory: Memory, run: GradingRun, session: Session, batch: list[Call],
                done: dict[int, CaseResult]) -> bool:
    """After the first call's verdict (a pass): the rest's into ``done``, where the
    whole batch came back as it came before; the results not yet read are dropped."""
    key = batch_key(memory, run, session, batch)
    known = memory.batch(key) if key is not None else None
    if known is None or not done[id(batch[0].pc)].passed:
        return False
    session.skip_results()
    for call, cr in zip(batch[1:], known[1:]):
        done[id(call.pc)] = cr
    return True


def keep_batch(memory: Memory, run: GradingRun, session: Session, batch: list[Call],
               done: dict[int, CaseResult]) -> None:
    """Keep a whole batch's verdicts where every call of it passed."""
    results = [done.get(id(c.pc)) for c in batch]
    if all(cr is not None and cr.passed for cr in results):
        key = batch_key(memory, run, session, batch)
        if key is not None:
            memory.keep_batch(key, [cr for cr in results if cr is not None])
