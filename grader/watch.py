"""``grade ASSIGNMENT --watch``: grade again on every save, the changed items first.

One judge and one warm fork server serve the whole session, so a save costs the
runner's load of the submission and the changed items' calls, not a start-up.  The
file is polled (its size, modification time and content): no dependency, and it works
on every platform and editor (some replace the file on save).  Each round prints the
changed items' rows as soon as they are graded, then the whole table, every score
beside the previous one.
"""

from __future__ import annotations

import ast
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from grader.course.submission import Source
from grader.errors import GraderError
from grader.result import ItemResult, Result

POLL = 0.2  # seconds between looks at the file


def function_digests(code: str) -> dict[str, str]:
    """A digest of each top-level function's code (comments and layout ignored), and of
    the rest of the module under ``""``; ``{}`` when the code does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    out: dict[str, str] = {}
    rest = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = hashlib.sha1(ast.dump(node).encode()).hexdigest()
        else:
            rest.append(ast.dump(node))
    out[""] = hashlib.sha1("\n".join(rest).encode()).hexdigest()
    return out


def changed_functions(old: dict[str, str], new: dict[str, str]) -> set[str] | None:
    """Functions whose code changed; None when anything else did (or it does not parse):
    then every item may have."""
    if not old or not new or old.get("") != new.get(""):
        return None
    return {n for n in set(old) | set(new) if old.get(n) != new.get(n)}


@dataclass
class Session:
    """A watch session: the judge, the last result, and how to show a round."""

    grade: Callable[[list[str] | None], Result]
    items: list[tuple[str, tuple[str, ...]]]         # (id, functions) in the table's order
    show: Callable[[str], None] = print
    last: dict[str, ItemResult] = field(default_factory=dict)
    total: tuple[float, float] | None = None
    digests: dict[str, str] = field(default_factory=dict)

    def first(self, functions: set[str] | None) -> list[str]:
        """The items to grade first: those whose functions changed (all, when unknown)."""
        if functions is None:
            return [i for i, _ in self.items]
        return [i for i, fs in self.items if functions & set(fs)]

    def round(self, code: str, label: str) -> Result:
        """Grade after a save: changed items first (rows shown at once), then the rest."""
        digests = function_digests(code)
        changed = changed_functions(self.digests, digests) if self.last else None
        self.digests = digests
        first = self.first(changed)
        ids = [i for i, _ in self.items]
        if changed is not None and not first:
            first = ids  # only a helper or a comment changed: everything, at once
        head = self.grade(first) if first != ids else None
        if head is not None:
            self.show(f"{label}: changed {', '.join(first)}")
            for it in head.items:
                self.show(self._row(it))
        rest = [i for i in ids if head is None or i not in first]
        result = self.grade(rest) if head is None else _merged(head, self.grade(rest), ids)
        self.show(f"{label}: every item" if head is not None else label)
        for it in result.items:
            self.show(self._row(it))
        self.show(self._total(result))
        self.last = {it.id: it for it in result.items}
        self.total = (result.score, result.max_score)
        return result

    def _row(self, it: ItemResult) -> str:
        from grader.reports.render import points

        now = f"{points(it.score)}/{points(it.max_score)}"
        old = self.last.get(it.id)
        was = f"(was {points(old.score)})" if old is not None and old.score != it.score else ""
        feedback = it.feedback.splitlines()[0] if it.feedback else ""
        return f"  {it.id:<18} {now:>9} {was:<11} {it.status:<8} {feedback[:60]}"

    def _total(self, r: Result) -> str:
        from grader.reports.render import points

        was = f" (was {points(self.total[0])})" if self.total is not None else ""
        line = f"Total: {points(r.score)}/{points(r.max_score)}{was}"
        if r.load_error:
            line = f"error: {r.load_error}\n{line}"
        return line


def _merged(head: Result, rest: Result, order: list[str]) -> Result:
    """One result of two rounds over disjoint items, in the table's order."""
    import dataclasses

    by_id = {it.id: it for it in head.items + rest.items}
    items = [by_id[i] for i in order if i in by_id]
    return dataclasses.replace(rest, items=items,
                               score=round(sum(i.score for i in items), 6),
                               max_score=round(sum(i.max_score for i in items), 6))


def stamp(path: Path) -> tuple[int, int, str] | None:
    """What tells a save: size, modification time and a digest of the content."""
    try:
        data = path.read_bytes()
        st = path.stat()
    except OSError:
        return None  # mid-save (some editors replace the file): look again
    return st.st_size, st.st_mtime_ns, hashlib.sha1(data).hexdigest()


def saves(path: Path, poll: float = POLL, rounds: int | None = None) -> Iterable[None]:
    """Yield once now and once after every save of ``path`` (``rounds`` times in all)."""
    seen = None
    done = 0
    while rounds is None or done < rounds:
        now = stamp(path)
        if now is not None and now[2] != (seen[2] if seen else None):
            seen = now
            done += 1
            yield None
        else:
            time.sleep(poll)


def watch(submission: Path, assignment: str, course: Path | None = None, *,
          public_only: bool = False, show: Callable[[str], None] = print,
          rounds: int | None = None, poll: float = POLL) -> None:
    """Grade ``submission`` now and after every save until interrupted (or ``rounds``)."""
    from grader.api import Grader
    from grader.course.files import find_root
    from grader.course.submission import load_source

    grader = Grader(find_root(course), assignment, public_only=public_only)
    current: list[Source] = []
    try:
        session = Session(lambda ids: grader.judge.grade(current[-1], ids),
                          [(it.id, it.functions) for it in grader.assignment.items], show)
        show(f"watching {submission} (Ctrl-C stops)")
        for _ in saves(submission, poll, rounds):
            try:
                current[:] = [load_source(submission)]
            except GraderError as e:
                show(f"error: {e}")
                continue
            session.round(current[-1].code, time.strftime("%H:%M:%S ") + submission.name)
    finally:
        grader.close()


def watch_command(assignment: str, submission: Path | None, course: Path | None,
                  public_only: bool) -> None:
    """``grade ASSIGNMENT --watch``: until Ctrl-C, which ends it quietly (exit 0)."""
    import click

    from grader.course.files import find_root, paths

    root = find_root(course)
    path = submission or paths(root, assignment)["stub"]

    def show(line: str) -> None:
        click.echo(line)

    try:
        watch(Path(path), assignment, root, public_only=public_only, show=show)
    except KeyboardInterrupt:
        click.echo("stopped watching")
