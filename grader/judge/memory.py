"""What a judge remembers across submissions: the answers to callbacks (the reference's,
the grader's callables') by the exact bytes of their arguments, and the verdicts on
returned values by the exact bytes of the value; taken up from the assignment's memo and
kept in it again (:mod:`grader.course.memo`).  Also, in memory only, the verdicts on a
whole batch whose results came back in one frame, by the exact bytes of that frame.

A batch of correct submissions mostly repeats both.  Each holds the most recently used
last, so what goes back on disk is what is still in use, at most so much of it.
"""

from __future__ import annotations

from typing import Any

from grader.course.memo import hidden_to_json, memo_path, write_memo
from grader.course.spec import Assignment
from grader.result import CaseResult


class Memory:
    CACHE_LIMIT = 50_000  # entries of each, in memory
    MEMO_REPLIES = 5_000  # kept on disk, the most recently used
    MEMO_VERDICTS = 3_000
    BATCH_BYTES = 256 * 1024  # a results frame's body larger than this is not kept
    BATCHES_BYTES = 32 * 1024 * 1024  # of all kept, in memory

    def __init__(self, memo: dict[str, Any] | None = None) -> None:
        self.replies: dict[Any, dict[str, Any]] = {}
        # a verdict taken up from a memo stays a dict until it is first used
        self.verdicts: dict[tuple[Any, ...], CaseResult | dict[str, Any]] = {}
        # (the batch's cases, and the own helpers each ran with; the body of the runner's
        # results frame) -> their verdicts, where every one passed (never kept on disk)
        self.batches: dict[tuple[Any, ...], list[CaseResult]] = {}
        self.batch_bytes = 0  # the kept frames' bodies
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

    # ------------------------------------------------------------------ whole batches
    def batch(self, key: tuple[Any, ...]) -> list[CaseResult] | None:
        """Copies of the verdicts kept for a whole batch that came back as ``key`` says."""
        kept = self.batches.get(key)
        return None if kept is None else [cr.shallow() for cr in kept]

    def keep_batch(self, key: tuple[Any, ...], results: list[CaseResult]) -> None:
        if key in self.batches:
            return
        size = len(key[-1])
        if self.batch_bytes + size > self.BATCHES_BYTES:
            self.batches.clear()
            self.batch_bytes = 0
        self.batches[key] = [cr.shallow() for cr in results]
        self.batch_bytes += size

    # ------------------------------------------------------------------ verdicts
    def verdict(self, key: tuple[Any, ...]) -> CaseResult | None:
        """A copy of the verdict kept for ``key`` (shallow, as dataclasses.replace)."""
        cached = self.verdicts.pop(key, None)
        if cached is None:
            return None
        if isinstance(cached, dict):
            cached = CaseResult.from_json(cached)
        self.verdicts[key] = cached  # the most recently used last
        return cached.shallow()

    def keep_verdict(self, key: tuple[Any, ...], cr: CaseResult) -> None:
        if len(self.verdicts) >= self.CACHE_LIMIT:
            self.verdicts.clear()
        self.verdicts[key] = cr.shallow()
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
