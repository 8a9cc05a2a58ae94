"""What a judge remembers across submissions: the answers to callbacks (the reference's,
the grader's callables') by the exact bytes of their arguments, and the verdicts on
returned values by the exact bytes of the value; taken up from the assignment's memo
and kept in it again (:mod:`grader.course.memo`).

A batch of correct submissions mostly repeats both.  Each holds the most recently used
last, so what goes back on disk is what is still in use, at most so much of it.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from grader.course.memo import hidden_to_json, memo_path, write_memo
from grader.course.spec import Assignment
from grader.protocol import wire
from grader.result import CaseResult

Invoker = Callable[[str], Callable[..., Any]]


class Memory:
    CACHE_LIMIT = 50_000  # entries of each, in memory
    MEMO_REPLIES = 5_000  # kept on disk, the most recently used
    MEMO_VERDICTS = 3_000

    def __init__(self, memo: dict[str, Any] | None = None) -> None:
        self.replies: dict[Any, dict[str, Any]] = {}
        # a verdict taken up from a memo stays a dict until it is first used
        self.verdicts: dict[tuple[Any, ...], CaseResult | dict[str, Any]] = {}
        self.learned = 0  # entries new since the memo was read
        self._recall(memo)

    # ------------------------------------------------------------------ replies
    def reply(self, key: Any) -> dict[str, Any] | None:
        hit = self.replies.pop(key, None)
        if hit is not None:
            self.replies[key] = hit  # the most recently used last
        return hit

    def remember(self, key: Any, reply: dict[str, Any]) -> None:
        if len(self.replies) >= self.CACHE_LIMIT:
            self.replies.clear()
        self.replies[key] = reply
        self.learned += 1

    # ------------------------------------------------------------------ verdicts
    def verdict(self, key: tuple[Any, ...]) -> CaseResult | None:
        """A copy of the verdict kept for ``key`` (shallow, as dataclasses.replace)."""
        cached = self.verdicts.pop(key, None)
        if cached is None:
            return None
        if isinstance(cached, dict):
            cached = CaseResult.from_json(cached)
        self.verdicts[key] = cached  # the most recently used last
        return copy.copy(cached)

    def keep_verdict(self, key: tuple[Any, ...], cr: CaseResult) -> None:
        if len(self.verdicts) >= self.CACHE_LIMIT:
            self.verdicts.clear()
        self.verdicts[key] = copy.copy(cr)
        self.learned += 1

    # ------------------------------------------------------------------ the memo
    def _recall(self, memo: dict[str, Any] | None) -> None:
        if not memo:
            return
        try:
            for k, reply in memo["replies"][: self.CACHE_LIMIT]:
                self.replies[tuple(k)] = reply
            for k, cr in memo["verdicts"][: self.CACHE_LIMIT]:
                self.verdicts[tuple(k)] = cr
        except (TypeError, ValueError, KeyError):  # a damaged memo: start from nothing
            self.replies.clear()
            self.verdicts.clear()

    def save(self, a: Assignment) -> None:
        """Keep what was learned for the next run (only where the secret side is here:
        the memo holds expected values)."""
        memo = a.memo
        if memo is None or not a.full or not (self.learned or memo.get("hidden") is None):
            return
        memo["hidden"] = [hidden_to_json(pc) for pc in a.hidden()]
        replies = list(self.replies.items())[-self.MEMO_REPLIES:]
        verdicts = list(self.verdicts.items())[-self.MEMO_VERDICTS:]
        memo["replies"] = [[list(k), v] for k, v in replies]
        memo["verdicts"] = [[list(k), cr if isinstance(cr, dict) else cr.to_json()]
                            for k, cr in verdicts]
        write_memo(memo_path(a.root, a.name), memo)
        self.learned = 0


# ---------------------------------------------------------------------- student callables


def recording(invoker: Invoker | None, log: list[list[Any]]) -> Invoker | None:
    """``invoker``, with each call of a student callable and its value kept in ``log``."""
    if invoker is None:
        return None

    def handle(name: str) -> Callable[..., Any]:
        fn = invoker(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            value = fn(*args, **kwargs)
            log.append([name, wire.pack_value(wire.encode([list(args), kwargs])),
                        wire.pack_value(wire.encode(value))])
            return value

        return call

    return handle


def replayed(kept: dict[str, Any], invoker: Invoker | None) -> dict[str, Any] | None:
    """A kept reply whose calls of the student's callable give what they gave then,
    called again in the same order; None at the first that does not."""
    if invoker is None:
        return None
    for handle, args, value in kept.get("invoked", []):
        a, k = wire.Decoder().decode(wire.unpack_value(args))
        got = invoker(str(handle))(*a, **dict(k))
        if wire.pack_value(wire.encode(got)) != value:
            return None
    return {k: v for k, v in kept.items() if k != "invoked"}
