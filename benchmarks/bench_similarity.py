"""``grade similarity``: accuracy on the test corpus and speed on a class of 1,000, each
beside a baseline measured in the same run.

Accuracy: the corpus of tests/similarity_corpus.py (independent hw1 solutions, partial
ones, disguised copies and a copy of the reference), checked by us and by copydetect
(https://pypi.org/project/copydetect/, all pairs, Pygments tokens; given the stub as
boilerplate).  Printed: precision and recall at each tool's default threshold, the rank
of every copied pair, and the gap between the least similar copy and the most similar
independent pair.

Speed: ``--n`` hw1-sized submissions (default 1,000; each function from one of the four
independent authors, with random disguises), checked cold with a fresh gradebook, then
again after one new submission arrives.  Baselines: Python's ``tokenize`` alone over the
same files in one process (the floor of any tool that uses it), and copydetect on the
first ``--copydetect-n`` of them beside us on the same files.  Peak memory is the
resident set of this process and of the largest worker.

    python3 benchmarks/bench_similarity.py
    python3 benchmarks/bench_similarity.py --n 300 --copydetect-n 100

copydetect is installed for this benchmark only (``pip install copydetect``); it is not a
dependency of the grader.  Without it its columns say so.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from similarity_corpus import REFERENCE, big_class, corpus  # noqa: E402

from grader.similarity import Settings, check  # noqa: E402


def _mb(kb: int) -> float:
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def _score(ranked: list[tuple[float, frozenset[str]]], copied: set[frozenset[str]],
           threshold: float) -> dict[str, object]:
    """Precision, recall and ranks from pairs sorted by score (every pair of the corpus)."""
    flagged = {p for s, p in ranked if s >= threshold}
    tp = len(flagged & copied)
    ranks = sorted(i for i, (_, p) in enumerate(ranked, 1) if p in copied)
    copy_scores = [s for s, p in ranked if p in copied]
    other = [s for s, p in ranked if p not in copied]
    return {"precision": tp / len(flagged) if flagged else float("nan"),
            "recall": tp / len(copied), "ranks": ranks,
            "all_copies_first": ranks == list(range(1, len(copied) + 1)),
            "least_copy": min(copy_scores), "most_independent": max(other, default=0.0)}


def ours_on_corpus(folder: Path, keys: list[str]) -> list[tuple[float, frozenset[str]]]:
    r = check("hw1", folder, root=ROOT, reference=True, settings=Settings(floor=0.0))
    scores = {frozenset((p.a, p.b)): p.similarity for p in r.pairs}
    pairs = [frozenset((a, b)) for a in keys for b in keys if a < b]
    return sorted(((scores.get(p, 0.0), p) for p in pairs), key=lambda t: -t[0])


def _copydetect(files: list[Path], boilerplate: Path) -> tuple[dict[frozenset[str], float],
                                                                 float]:
    from copydetect import CopyDetector

    t0 = time.perf_counter()
    det = CopyDetector(boilerplate_dirs=[str(boilerplate)], extensions=["py"], silent=True,
                       autoopen=False)
    for f in files:
        det.add_file(str(f))
    det.run()
    seconds = time.perf_counter() - t0
    names = [Path(f).stem for f in det.test_files]
    out: dict[frozenset[str], float] = {}
    m = det.similarity_matrix
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i < j:
                out[frozenset((a, b))] = float(max(m[i, j, 0], m[i, j, 1], 0.0))
    return out, seconds


def copydetect_on_corpus(folder: Path, keys: list[str], tmp: Path
                         ) -> list[tuple[float, frozenset[str]]] | str:
    try:
        import copydetect  # noqa: F401
    except ImportError:
        return "copydetect is not installed (pip install copydetect)"
    plate = tmp / "boilerplate"
    plate.mkdir()
    (plate / "hw1.py").write_text((ROOT / "exercises" / "hw1.py").read_text())
    files = sorted(folder.glob("*.py"))
    ref = tmp / "ref"
    ref.mkdir()
    (ref / f"{REFERENCE}.py").write_text((ROOT / "solutions" / "hw1.py").read_text())
    scores, _ = _copydetect(files + [ref / f"{REFERENCE}.py"], plate)
    pairs = [frozenset((a, b)) for a in keys for b in keys if a < b]
    return sorted(((scores.get(p, 0.0), p) for p in pairs), key=lambda t: -t[0])


def _show(name: str, s: dict[str, object] | str, threshold: float) -> None:
    if isinstance(s, str):
        print(f"  {name:<12} {s}")
        return
    print(f"  {name:<12} precision {s['precision']:.2f}  recall {s['recall']:.2f} "
          f"(threshold {threshold})  copies ranked {s['ranks']}  "
          f"every copy above every independent pair: {s['all_copies_first']}  "
          f"least similar copy {s['least_copy']:.3f}, most similar independent pair "
          f"{s['most_independent']:.3f}")


def accuracy(tmp: Path) -> None:
    c = corpus(tmp / "corpus")
    n_pairs = len(c.keys) * (len(c.keys) - 1) // 2
    print(f"accuracy: {len(c.keys)} sources ({len(c.copied)} copied pairs among {n_pairs})")
    for k, r in c.recipes.items():
        print(f"    {k}: {r}")
    _show("ours", _score(ours_on_corpus(c.folder, c.keys), c.copied, 0.5), 0.5)
    theirs = copydetect_on_corpus(c.folder, c.keys, tmp)
    _show("copydetect", theirs if isinstance(theirs, str)
          else _score(theirs, c.copied, 0.33), 0.33)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _tokenize_only(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for f in files:
        for _ in tokenize.generate_tokens(io.StringIO(f.read_text()).readline):
            pass
    return time.perf_counter() - t0


def speed(tmp: Path, n: int, n_cd: int) -> None:
    folder = tmp / "class"
    t0 = time.perf_counter()
    truth = big_class(folder, n)
    files = sorted(folder.glob("*.py"))
    lines = sum(f.read_text().count("\n") for f in files) / len(files)
    print(f"\nspeed: {n} submissions of {lines:.0f} lines on average (generated in "
          f"{time.perf_counter() - t0:.0f} s), {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    db = tmp / "gradebook.sqlite"
    t, c = time.perf_counter(), _cpu()
    r = check("hw1", folder, root=ROOT, db=db)
    cold, cpu = time.perf_counter() - t, _cpu() - c
    (folder / "latecomer.py").write_text(files[0].read_text() + "\n# late\n")
    t = time.perf_counter()
    r2 = check("hw1", folder, root=ROOT, db=db)
    warm = time.perf_counter() - t
    c = _cpu()
    base = _tokenize_only(files)
    base_cpu = _cpu() - c
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"  ours, cold:       {cold:6.2f} s  ({n / cold:.0f} submissions/s; "
          f"{len(r.pairs)} pairs compared in full, {len(r.flagged)} flagged; target < 10 s)")
    print(f"    CPU time {cpu:.2f} s in all processes: {cpu / (os.cpu_count() or 1):.2f} s "
          f"of wall time on {os.cpu_count()} idle cores (load average now "
          f"{os.getloadavg()[0]:.1f}: other work shares the cores)")
    found = {frozenset((p.a, p.b)) for p in r.flagged}
    print(f"    {len(found & truth)} of the {len(truth)} copied pairs flagged (recall "
          f"{len(found & truth) / max(len(truth), 1):.2f}); {len(found - truth)} other pairs "
          "flagged (these students share whole functions by construction)")
    print(f"  ours, +1 new:     {warm:6.2f} s  ({r2.reused_files} files and "
          f"{r2.reused_pairs} pairs read back from the gradebook)")
    print(f"  baseline: Python's tokenize alone, one process: {base:6.2f} s, CPU "
          f"{base_cpu:.2f} s (ours / baseline: wall {cold / base:.2f}, CPU "
          f"{cpu / base_cpu:.2f})")
    print(f"  peak memory: {_mb(me):.0f} MB this process, {_mb(kids):.0f} MB the largest "
          f"worker; gradebook {db.stat().st_size / 2**20:.1f} MB")
    try:
        import copydetect  # noqa: F401
    except ImportError:
        print("  copydetect: not installed (pip install copydetect)")
        return
    sub = tmp / "subset"
    sub.mkdir()
    for f in files[:n_cd]:
        (sub / f.name).write_text(f.read_text())
    t = time.perf_counter()
    check("hw1", sub, root=ROOT)
    ours_small = time.perf_counter() - t
    plate = tmp / "plate"
    plate.mkdir()
    (plate / "hw1.py").write_text((ROOT / "exercises" / "hw1.py").read_text())
    _, theirs = _copydetect(sorted(sub.glob("*.py")), plate)
    print(f"  on the first {n_cd}: ours {ours_small:.2f} s, copydetect {theirs:.2f} s "
          f"(copydetect / ours = {theirs / ours_small:.1f}; copydetect compares all "
          f"{n_cd * (n_cd - 1) // 2} pairs, so its time grows with the square)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--copydetect-n", type=int, default=200)
    ap.add_argument("--skip-speed", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        accuracy(Path(d))
        if not a.skip_speed:
            speed(Path(d), a.n, a.copydetect_n)


if __name__ == "__main__":
    main()
