"""The terminal table and the CSV of a similarity check: renderers of the report's fields."""

from __future__ import annotations

import csv
from pathlib import Path

from grader.errors import UsageError
from grader.similarity.pairs import Pair
from grader.similarity.run import SimilarityReport

__all__ = ["matching_functions", "summary_lines", "table_lines", "write_csv"]

MATCH = 0.5
"""A function counts as matching when half its own tokens, on either side, are shared."""


def matching_functions(p: Pair, graded: list[str]) -> list[str]:
    """The functions the pair shares (graded ones where the assignment names them), in
    the pair's order: the most shared tokens first."""
    return [f for f in p.functions if (not graded or f in graded)
            and max(p.functions[f]) >= MATCH]


def _members(r: SimilarityReport) -> dict[str, str]:
    return {e.key: " ".join(e.members) for e in r.entries}


def _cluster_of(r: SimilarityReport) -> dict[str, int]:
    return {k: i for i, c in enumerate(r.clusters, 1) for k in c}


def summary_lines(r: SimilarityReport) -> list[str]:
    """What was compared and what was left out, in a few lines."""
    s = r.settings
    n = len(r.entries)
    out = [f"{r.assignment}: {n} source{'s' * (n != 1)} compared ({r.layout} layout), "
           f"{len(r.pairs)} pair{'s' * (len(r.pairs) != 1)} compared in full, "
           f"{len(r.flagged)} flagged (similarity >= {s.threshold:.2f})"]
    out.append(f"  starter code subtracted; {r.common_dropped} fingerprints in more than "
               f"{s.common:.0%} of the class dropped as common; k={s.k}, w={s.w}")
    if r.same_group:
        out.append(f"  {r.same_group} pair{'s' * (r.same_group != 1)} of one group's members "
                   "not compared")
    if r.reused_files or r.reused_pairs:
        out.append(f"  unchanged since the last run: {r.reused_files} files, "
                   f"{r.reused_pairs} pairs (read from the gradebook)")
    return out


def table_lines(r: SimilarityReport, top: int = 20) -> list[str]:
    """The flagged pairs (and up to ``top`` rows in all, at least those flagged)."""
    rows = [i for i, p in enumerate(r.pairs, 1) if p.flagged or i <= top]
    if not rows:
        return ["no pair shares enough code to compare"]
    wa = max(4, *(len(r.pairs[i - 1].a) for i in rows))
    wb = max(4, *(len(r.pairs[i - 1].b) for i in rows))
    out = [f"{'rank':>4}  {'a':<{wa}}  {'b':<{wb}}  similar  cover a  cover b  longest  "
           "functions"]
    for i in rows:
        p = r.pairs[i - 1]
        funcs = matching_functions(p, r.graded)
        shown = ", ".join(funcs[:4]) + (f" (+{len(funcs) - 4})" if len(funcs) > 4 else "")
        mark = "*" if p.flagged else " "
        out.append(f"{i:>4}{mark} {p.a:<{wa}}  {p.b:<{wb}}  {p.similarity:7.1%}  "
                   f"{p.cover_a:7.0%}  {p.cover_b:7.0%}  {p.longest:>3} ln  {shown}")
    if len(r.pairs) > len(rows):
        out.append(f"  ... and {len(r.pairs) - len(rows)} more pairs below the threshold "
                   "(--csv lists them all)")
    out.append("  * flagged")
    for c in r.clusters:
        out.append(f"cluster of {len(c)}: {', '.join(c)}")
    return out


def write_csv(r: SimilarityReport, path: Path) -> int:
    """A row per compared pair, most similar first; returns the number of rows."""
    members, cluster = _members(r), _cluster_of(r)
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["rank", "a", "b", "members_a", "members_b", "similarity", "cover_a",
                        "cover_b", "longest_lines", "longest_tokens", "shared_fingerprints",
                        "flagged", "cluster", "functions"])
            for i, p in enumerate(r.pairs, 1):
                c = cluster.get(p.a) if p.flagged else None
                funcs = ";".join(f"{name}:{p.functions[name][0]:.2f}/{p.functions[name][1]:.2f}"
                                 for name in matching_functions(p, r.graded))
                w.writerow([i, p.a, p.b, members.get(p.a, ""), members.get(p.b, ""),
                            f"{p.similarity:.4f}", f"{p.cover_a:.4f}", f"{p.cover_b:.4f}",
                            p.longest, p.longest_tokens, p.shared, int(p.flagged),
                            c or "", funcs])
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    return len(r.pairs)
