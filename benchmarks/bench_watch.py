"""How long ``grade ASSIGNMENT --watch`` takes to re-grade one changed item after a save,
beside the baseline measured in the same run: ``grade ASSIGNMENT --item ITEM`` run cold
(a fresh judge and fork server, as a new command would; interpreter start excluded).

Target (issue 12): under 0.3 s for the changed item's row.

    python benchmarks/bench_watch.py [--runs 7] [--item sigmoid]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.api import Grader, grade  # noqa: E402
from grader.watch import Session  # noqa: E402


def _edited(code: str, func: str, k: int) -> str:
    """``code`` with one statement added at the top of ``func``'s body, as a save would."""
    import ast

    node = next(n for n in ast.parse(code).body
                if isinstance(n, ast.FunctionDef) and n.name == func)
    lines = code.splitlines()
    first = node.body[0].lineno - 1
    indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    return "\n".join(lines[:first] + [f"{indent}_edit = {k}"] + lines[first:]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--assignment", default="hw1")
    ap.add_argument("--item", default="sigmoid")
    ap.add_argument("--submission", default="solutions/hw1.py")
    args = ap.parse_args()
    from grader.course.submission import Source

    grader = Grader(ROOT, args.assignment)
    a, judge = grader.assignment, grader.judge
    item = a.item(args.item)
    base = (ROOT / args.submission).read_text(encoding="utf-8")
    current: list[Source] = []
    first: list[float] = []
    session = Session(lambda ids: judge.grade(current[-1], ids),
                      [(it.id, it.functions) for it in a.items],
                      lambda line: first.append(time.perf_counter()) if "changed" in line
                      else None)
    try:
        current[:] = [Source(code=base, filename="hw1.py", kind="py")]
        session.round(base, "start")
        times = []
        for k in range(args.runs):  # each save changes one function of the item
            code = _edited(base, item.functions[0], k)
            current[:] = [Source(code=code, filename="hw1.py", kind="py")]
            first.clear()
            t = time.perf_counter()
            session.round(code, "save")
            times.append(first[0] - t if first else float("nan"))
    finally:
        grader.close()
    cold = []
    for _ in range(max(3, args.runs // 2)):
        t = time.perf_counter()
        grade(ROOT / args.submission, args.assignment, course=ROOT, items=[args.item])
        cold.append(time.perf_counter() - t)
    w, c = statistics.median(times), statistics.median(cold)
    print(f"--watch, one changed item ({args.item}): median {w:.3f} s over {args.runs} saves "
          f"(min {min(times):.3f}, max {max(times):.3f})")
    print(f"baseline, grade {args.assignment} --item {args.item} cold (no interpreter start): "
          f"median {c:.3f} s over {len(cold)} runs")
    print(f"ratio watch/cold: {w / c:.2f}; target: under 0.3 s "
          f"({'met' if w < 0.3 else 'NOT met'} here)")


if __name__ == "__main__":
    main()
