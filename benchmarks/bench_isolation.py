"""What each isolation layer adds to the time per submission.

For each configuration, from a bare fork to the full stack, it times starting a fork
server (paid once per server: Python, numpy, the sandbox), then
- a bare session: fork a runner, load a one-line submission, call it once, close;
- grading a real submission (the reference, every item) through the judge;
and prints the medians.  Layers the machine lacks are reported and skipped.

    python benchmarks/bench_isolation.py [--sessions 60] [--grades 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.protocol import wire
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.plan import Isolation, bwrap_path, is_root

NO_LIMITS = {"memory_mb": 0, "cpu_seconds": 0, "file_mb": 0, "open_files": 0,
             "processes": -1, "stack_mb": 0}
TINY = "def f(x):\n    return x + 1\n"
STARTS = 5  # fork server starts timed per configuration (numpy import included)


def configurations() -> list[tuple[str, Isolation, dict[str, Any] | None, str]]:
    """(label, isolation, limits, why skipped or "")."""
    root = is_root()
    linux = sys.platform.startswith("linux")
    return [
        ("plain fork", Isolation(bwrap=False, uid=None), NO_LIMITS, ""),
        ("+ rlimits", Isolation(bwrap=False, uid=None), None, ""),
        ("+ uid drop", Isolation(bwrap=False), None, "" if root else "not root"),
        ("+ bubblewrap", Isolation(bwrap=True), None,
         "" if linux and bwrap_path() else "bubblewrap not available"),
    ]


def session_once(server: ForkServer) -> float:
    t = time.perf_counter()
    s = server.open()
    s.send({"op": "load", "code": TINY, "filename": "tiny.py", "module": "tiny"})
    assert s.recv(time.monotonic() + 30).get("status") == "ok"
    s.send({"op": "call", "func": "f", "args": wire.encode([1]), "kwargs": wire.encode({})})
    reply = s.recv(time.monotonic() + 30)
    assert reply.get("status") == "ok" and wire.decode(reply["value"]) == 2, reply
    s.close()
    return time.perf_counter() - t


def measure(configs: list[tuple[str, Isolation, dict[str, Any] | None]], sessions: int,
            grades: int) -> list[dict[str, Any]]:
    """All servers up at once; sessions and gradings interleaved round-robin, so that a
    busy machine slows every configuration alike."""
    from grader.api import grade

    servers: list[ForkServer] = []
    out: list[dict[str, Any]] = []
    try:
        for label, iso, limits in configs:
            starts = []
            for _ in range(STARTS):
                t = time.perf_counter()
                srv = ForkServer(("numpy",), limits, course=ROOT, isolation=iso, verbose=False)
                srv.ready()
                starts.append(time.perf_counter() - t)
                if len(starts) < STARTS:
                    srv.close()
            servers.append(srv)
            active = srv.plan is not None and (
                (label != "+ bubblewrap" or srv.plan.bwrap)
                and (label != "+ uid drop" or srv.plan.drop is not None))
            out.append({"label": label, "start": statistics.median(starts), "active": active,
                        "fallback": srv.fallback, "sessions": [], "grades": []})
        for srv in servers:
            for _ in range(5):
                session_once(srv)  # warm up
        for _ in range(sessions):
            for srv, m in zip(servers, out):
                m["sessions"].append(session_once(srv))
        for _ in range(grades):
            for srv, m in zip(servers, out):
                t = time.perf_counter()
                r = grade(ROOT / "solutions" / "hw1.py", "hw1", course=ROOT, server=srv)
                m["grades"].append(time.perf_counter() - t)
                assert r.score == r.max_score, r.score
    finally:
        for srv in servers:
            srv.close()
    for m in out:
        m["session"] = statistics.median(m["sessions"])
        m["grade"] = statistics.median(m["grades"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=60)
    ap.add_argument("--grades", type=int, default=8)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{sys.platform}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load {load:.2f}; medians of {args.sessions} sessions and {args.grades} gradings")
    print(f"{'layers':<14} {'server start':>13} {'bare session':>13} {'+':>8} "
          f"{'grade hw1':>10} {'+':>8}")
    todo = []
    for label, iso, limits, skip in configurations():
        if skip:
            print(f"{label:<14} skipped: {skip}")
        else:
            todo.append((label, iso, limits))
    prev: dict[str, Any] | None = None
    for m in measure(todo, args.sessions, args.grades):
        if not m["active"]:
            print(f"{m['label']:<14} not active here: {m['fallback'] or 'see grade doctor'}")
            continue
        d_session = (m["session"] - prev["session"]) * 1000 if prev else 0.0
        d_grade = (m["grade"] - prev["grade"]) * 1000 if prev else 0.0
        print(f"{m['label']:<14} {m['start'] * 1000:>10.0f} ms {m['session'] * 1000:>10.2f} ms "
              f"{d_session:>+6.2f} ms {m['grade'] * 1000:>7.0f} ms {d_grade:>+6.0f} ms")
        prev = m

if __name__ == "__main__":
    main()
