"""The floor of this design: the CPU a correct submission costs however lean the engine.

Three parts, each measured here, in this process, in the same run as what it is compared
with (this machine's speed of the moment cancels out of the ratio):

- a fresh process per submission: fork and exit of a process holding numpy and pandas
  (its heap frozen, as the fork server's is), parent and child CPU;
- the submission's own computing: the reference run on every case (public and hidden,
  arguments decoded beforehand, the grader's callables answered directly) in a fresh fork,
  the child's CPU;
- compiling the submission's source.

No messages, no judging, no isolation layers: what is left when those cost nothing.

    python benchmarks/floor.py [--repeat 20]
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


FAULTS: list[int] = []  # the children's minor (copy-on-write) page faults


def _child_cpu(work: Callable[[], None]) -> float:
    """CPU seconds of a fresh fork that runs ``work`` and exits, plus the parent's fork."""
    t = time.process_time()
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    parent = time.process_time() - t
    _, _, usage = os.wait4(pid, 0)
    FAULTS.append(usage.ru_minflt)
    return parent + usage.ru_utime + usage.ru_stime


def _replay(tape: list[dict[str, Any]], name: str) -> Callable[..., Any]:
    """A grader callable answered from a public case's tape, in the order it was recorded."""
    from grader.protocol import wire

    values = iter([wire.decode(e["value"]) for e in tape if e["name"] == name])
    return lambda *a, **k: next(values)


def reference_calls(root: Path, name: str) -> tuple[list[tuple[Any, Any, Any]], str]:
    """(function, args, kwargs) of every case of ``name``, decoded; and the reference's text."""
    from grader.course.folder import load, paths
    from grader.protocol import wire

    a = load(name, root, recall=False)  # the real reference and callables, not the memo's
    calls = []
    for pc in a.public + a.hidden():
        def on_callable(n: str, pc: Any = pc) -> Any:
            fn = pc.callables.get(n)
            return fn if fn is not None else _replay(pc.tape, n)

        dec = wire.Decoder(on_callable=on_callable, allow_dataframe=True)
        args = [dec.decode(x) for x in pc.args]
        kwargs = dec.decode(pc.kwargs)
        calls.append((getattr(a.reference, pc.case.func), args, kwargs))
    return calls, paths(root, name)["reference"].read_text(encoding="utf-8")


def measure(root: Path = ROOT, name: str = "hw1", repeat: int = 20) -> dict[str, float]:
    """Median CPU seconds of each part of the floor, and their sum (``floor``)."""
    import copy
    import statistics
    import warnings

    import numpy  # noqa: F401 - what the fork server holds
    import pandas  # noqa: F401

    calls, source = reference_calls(root, name)

    def own_work() -> Callable[[], None]:
        fresh = copy.deepcopy(calls)  # in the parent: the child only computes

        def run() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for fn, args, kwargs in fresh:
                    try:
                        fn(*args, **kwargs)
                    except Exception:  # noqa: BLE001, S110 - a replayed tape may run short
                        pass

        return run

    gc.collect()
    gc.freeze()
    FAULTS.clear()
    fork = statistics.median(_child_cpu(lambda: None) for _ in range(repeat))
    faults = statistics.median(FAULTS)
    work = statistics.median(_child_cpu(own_work()) for _ in range(repeat))
    comp = []
    for _ in range(repeat):
        t = time.process_time()
        compile(source, "submission.py", "exec", dont_inherit=True)
        comp.append(time.process_time() - t)
    gc.unfreeze()
    out = {"fork_exit": fork, "own_work": work, "compile": statistics.median(comp)}
    out["floor"] = sum(out.values())
    out["faults"] = float(faults)
    out["cases"] = float(len(calls))
    return out


def describe(f: dict[str, float]) -> str:
    return (f"{1000 * f['floor']:.1f} ms (fork + exit {1000 * f['fork_exit']:.1f}, "
            f"{f['faults']:.0f} page faults; the "
            f"reference's own work on {f['cases']:.0f} cases {1000 * f['own_work']:.1f}; "
            f"compiling {1000 * f['compile']:.1f})")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    print("floor per correct submission:", describe(measure(repeat=ap.parse_args().repeat)))
