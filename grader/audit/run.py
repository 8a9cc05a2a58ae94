"""Grade every mutant with the real grader and classify it: killed, survived, equivalent.

Each mutant is graded as a submission is: the same judge, runner, isolation and limits,
against the public and hidden cases.  Workers are processes, each with the assignment
loaded once (hidden cases prepared once) and its own runner fork server, as in
``grade batch``.  Verdicts go to a :class:`~grader.audit.cache.VerdictCache`, so a
re-run grades only the items whose cases (or whose mutant) changed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from grader.audit.cache import Verdict, VerdictCache, item_fingerprints
from grader.audit.declared import load_declarations, slip_mutants
from grader.audit.model import EPS, AuditReport, MutantResult
from grader.audit.mutants import Mutant, generate, solution_regions
from grader.errors import GraderError, UsageError

__all__ = ["audit", "make_mutants"]

_STATE: dict[str, Any] = {}
MUTANT_DEADLINE = 600.0   # seconds for one mutant, as for one submission in `grade batch`


def _init(root: str, name: str, time_scale: float) -> None:
    """A worker: load the assignment once, start one fork server."""
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when to stop
    # the judge computes substitutes with the reference on a mutant's arguments, which
    # may be out of the reference's domain: its warnings say nothing about the audit
    warnings.simplefilter("ignore")
    _STATE["worker"] = True
    _setup(root, name, time_scale)


def _setup(root: str, name: str, time_scale: float) -> None:
    _STATE.update(root=root, name=name, time_scale=time_scale, fatal="")
    try:
        _start()
    except Exception as e:  # noqa: BLE001 - reported with the first mutant it was given
        _STATE["fatal"] = f"the grading workers cannot start: {e}"


def _start() -> None:
    """One :class:`grader.api.Grader` (assignment loaded, hidden cases prepared) per worker."""
    from grader.api import Grader

    old = _STATE.get("grader")
    if old is not None:
        old.close()
    g = Grader(Path(_STATE["root"]), _STATE["name"], time_scale=_STATE["time_scale"])
    g.assignment.hidden()
    _STATE["grader"] = g
    if _STATE.get("worker"):   # a pool worker closes its fork server when it exits
        from multiprocessing.util import Finalize

        Finalize(g, g.close, exitpriority=10)


def _grade(task: tuple[str, str, list[str]]) -> tuple[str, list[Verdict] | str]:
    """Grade one mutant's source on the given items; an engine failure is retried once."""
    from grader.course.submission import Source

    key, code, items = task
    if _STATE["fatal"]:
        return key, _STATE["fatal"]
    source = Source(code=code, filename=f"{_STATE['name']}.py", kind="py")
    why = ""
    for _attempt in range(2):
        try:
            res = _STATE["grader"].judge.grade(source, items)
            return key, [Verdict(i.id, i.score, i.max_score, i.status) for i in res.items]
        except Exception as e:  # noqa: BLE001 - the runner machinery failed: restart it
            why = f"{type(e).__name__}: {e}"
            _start()
    return key, why


def make_mutants(root: Path, name: str, a: Any) -> tuple[list[Mutant], dict[str, str]]:
    """The operators' mutants and the declared slips, and the declared equivalents."""
    from grader.course.files import paths

    ref = paths(root, name)["reference"]
    if not ref.exists():
        raise UsageError(f"{ref} not found: the audit needs the instructor's side (solutions/)")
    source = ref.read_text(encoding="utf-8")
    rel = str(ref.relative_to(root))
    functions = {f for it in a.items for f in it.functions}
    decl = load_declarations(root, name)
    slips = slip_mutants(source, decl.slips, solution_regions(source, rel), rel)
    named = {m.source for m in slips}   # a slip that an operator also makes: keep its name
    mutants = [m for m in generate(source, functions, rel) if m.source not in named]
    return mutants + slips, decl.equivalent


def _pool(root: Path, name: str, workers: int, time_scale: float,
          tasks: list[tuple[str, str, list[str]]],
          done: Callable[[str, list[Verdict] | str], None]) -> None:
    import multiprocessing as mp

    from grader.batch.pool import _context

    if not tasks:
        return
    n = max(1, min(workers, len(tasks)))
    if n == 1:   # in this process: no pool to start
        import warnings

        _setup(str(root), name, time_scale)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for t in tasks:
                    done(*_grade(t))
        finally:
            if _STATE.get("grader") is not None:
                _STATE["grader"].close()
            _STATE.clear()
        return
    with _context().Pool(n, initializer=_init, initargs=(str(root), name, time_scale)) as p:
        results = p.imap_unordered(_grade, tasks)
        for _ in tasks:
            try:
                key, out = results.next(timeout=MUTANT_DEADLINE * time_scale)
            except mp.TimeoutError:
                raise GraderError(f"a grading worker gave no verdict for "
                                  f"{MUTANT_DEADLINE * time_scale:g} s and was stopped; the "
                                  "verdicts so far are cached: run the audit again") from None
            done(key, out)
        p.close()   # let the workers exit on their own, closing their fork servers
        p.join()


def audit(name: str, course: Path, *, workers: int | None = None,
          cache: Path | None = None, time_scale: float = 1.0,
          progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Generate ``name``'s mutants, grade those the cache does not know, classify them all."""
    from grader.api import load_assignment
    from grader.batch.pool import cores
    from grader.course.files import paths

    t0 = time.perf_counter()
    root = Path(course).resolve()
    a = load_assignment(name, root)
    if not a.full:
        raise UsageError(f"{name}: solutions/ is missing; the audit needs the reference "
                         "and the hidden cases")
    mutants, equivalent = make_mutants(root, name, a)
    fps = item_fingerprints(a, time_scale)
    store = VerdictCache(cache)
    ref_source = paths(root, name)["reference"].read_text(encoding="utf-8")
    ref = Mutant("reference", "", "", 0, "", "", ref_source)
    todo = [ref, *mutants]
    have = {m.hash: store.get(m.hash, fps) for m in todo}
    tasks = [(m.hash, m.source, sorted(set(fps) - set(have[m.hash]))) for m in todo]
    tasks = [t for t in tasks if t[2]]
    failed: list[str] = []
    count = [0]

    def done(key: str, out: list[Verdict] | str) -> None:
        count[0] += 1
        if isinstance(out, str):
            failed.append(out)
        else:
            store.put(key, fps, out)
            have[key].update({v.item: v for v in out})
        if progress:
            progress(count[0], len(tasks))

    try:
        _pool(root, name, workers or cores(), time_scale, tasks, done)
    finally:
        store.close()
    if failed:
        raise GraderError(f"the grader failed on {len(failed)} mutant(s) ({failed[0][:200]}); "
                          "the others are cached: run the audit again")
    report = _classify(a, mutants, equivalent, have, ref.hash)
    report.reference = str(paths(root, name)["reference"].relative_to(root))
    report.graded, report.cached = len(tasks), len(todo) - len(tasks)
    report.verdicts = sum(len(t[2]) for t in tasks)
    report.workers, report.seconds = workers or cores(), time.perf_counter() - t0
    return report


def _classify(a: Any, mutants: list[Mutant], equivalent: dict[str, str],
              have: dict[str, dict[str, Verdict]], ref_hash: str) -> AuditReport:
    base = have[ref_hash]
    owners: dict[str, list[str]] = {}
    for it in a.items:
        for f in it.functions:
            owners.setdefault(f, []).append(it.id)
    results = []
    for m in mutants:
        got = have[m.hash]
        lost = {i: base[i].score - v.score for i, v in got.items()
                if base[i].score - v.score > EPS}
        results.append(MutantResult(m, tuple(owners.get(m.function, ["?"])), lost,
                                    {i: v.status for i, v in got.items() if i in lost},
                                    equivalent.get(m.id, "")))
    ids = {m.id for m in mutants}
    return AuditReport(a.name, a.version, "", results,
                       stale=sorted(k for k in equivalent if k not in ids))
