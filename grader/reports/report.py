"""The TA's report on one assignment: one self-contained HTML page that opens offline.

The counts are :func:`grader.reports.counts.counts`, the same numbers ``grade batch``
prints; diagnoses are the cases' ``diagnosis`` and ``check`` fields, never their wording;
the charts are HTML boxes (:mod:`grader.reports.charts`); the style is inline; nothing is
fetched from a network, and everything a submission wrote is escaped.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from grader.batch.gradebook import SubmissionRow
from grader.reports.charts import CHART_STYLE, histogram, item_bars
from grader.reports.counts import ClassCounts, counts, who
from grader.reports.exports import ExportData
from grader.reports.page import STYLE, page
from grader.reports.render import points

TOP_DIAGNOSES = 15
SLOWEST = 10
# What a failing case's ``check`` says when the judge recognised no slip; cases whose check
# is in _NOT_A_DIAGNOSIS say nothing beyond their item's status (a function not written,
# cases not run after an earlier time-out or crash) and are counted under Items instead.
_CHECKS = {"value": "wrong values", "shape": "wrong shape", "type": "wrong type",
           "nonfinite": "NaN or inf", "keys": "a key is missing", "length": "wrong length",
           "dtype": "index arrays of another dtype", "load": "the submission does not load",
           "property": "the property checked does not hold",
           "undefined": "not defined", "died": "the process died during the call",
           "timeout": "did not finish in time", "RuntimeWarning": "a RuntimeWarning escaped"}
_NOT_A_DIAGNOSIS = ("not implemented", "not run")

REPORT_STYLE = STYLE + CHART_STYLE + """
body { max-width: 72rem; }
.muted { color: #666; }
td, th { text-align: left; }
td:nth-child(2) { text-align: left; }
td.num { text-align: right; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.card small { display: block; color: #666; }
"""


def diagnosis(case: dict[str, Any]) -> str:
    """What a failing case has in common with the same slip elsewhere, from its fields: the
    slip the judge recognised, else what failed (a wrong value, shape, an exception...)."""
    if case.get("diagnosis"):
        return str(case["diagnosis"])[:200]
    check = str(case.get("check") or case.get("status") or "failed")
    return _CHECKS.get(check, check)[:200]


def _table(head: list[str], rows: list[list[str]], num: frozenset[int] = frozenset()) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f"<td class=\"num\">{c}</td>" if i in num else f"<td>{c}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _cards(c: ClassCounts) -> str:
    mean = points(c.mean_all) if c.mean_all is not None else "–"
    mean_graded = points(c.mean_graded) if c.mean_graded is not None else "–"
    cards = [("submissions", str(c.submissions), ""), ("graded", str(c.graded), ""),
             ("could not be graded", str(c.errors), "score 0"),
             ("identical to another", str(c.identical), "byte for byte"),
             ("students", str(c.students), ""),
             ("no submission", str(len(c.no_submission)), ""),
             ("mean", mean, f"of all {c.submissions}; the {c.errors} not graded count 0"),
             ("mean of graded", mean_graded, f"of the {c.graded} graded"),
             ("median", points(c.median_all) if c.median_all is not None else "–",
              "of all"),
             ("full marks", str(c.full_marks), "")]
    return "<div class=\"grid\">" + "".join(
        f"<div class=\"card\" data-count=\"{html.escape(k)}\"><b>{v}</b>{html.escape(k)}"
        + (f"<small>{html.escape(note)}</small>" if note else "") + "</div>"
        for k, v, note in cards) + "</div>"


def _items(data: ExportData, graded: list[SubmissionRow]) -> list[str]:
    e = html.escape
    rows, names, means, passes = [], [], [], []
    for info in data.items:
        its = [it for s in graded for it in s.items if it.item == info.id]
        n = len(its) or 1
        mean = sum(it.score for it in its) / n
        pct = 100 * mean / info.max_score if info.max_score else 0.0
        rate = 100 * sum(it.status == "passed" for it in its) / n
        st = Counter(it.status for it in its)
        names.append(info.id)
        means.append(pct)
        passes.append(rate)
        rows.append([e(info.id), e(info.title), points(info.max_score), points(mean),
                     f"{pct:.0f}%", f"{rate:.0f}%",
                     e(", ".join(f"{k} {v}" for k, v in st.most_common() if k != "passed"))])
    return ["<h2>Items</h2>",
            f"<p class=\"muted\">Over the {len(graded)} submissions that were graded (those "
            "that could not be are listed under errors).</p>",
            item_bars(names, means, passes),
            _table(["item", "title", "points", "mean", "mean %", "pass rate",
                    "other statuses"], rows, frozenset({2, 3, 4, 5}))]


def _diagnoses(graded: list[SubmissionRow]) -> list[str]:
    """The class's most common diagnoses, by how many submissions have them."""
    counter: Counter[tuple[str, str]] = Counter()
    for s in graded:
        for it in s.items:
            counter.update({(it.item, diagnosis(c)) for c in it.cases
                            if not c.get("passed") and c.get("status") != "missing"
                            and c.get("check") not in _NOT_A_DIAGNOSIS})
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DIAGNOSES]
    out = ["<h2>Most common diagnoses</h2>",
           "<p class=\"muted\">The slip the grader recognised, else what failed, counted "
           "once per submission, most frequent first. Functions not implemented, and cases "
           "not run after a time-out, are counted under Items (their status), not here.</p>"]
    rows = [[html.escape(item), str(n), html.escape(d)] for (item, d), n in ranked]
    out.append(_table(["item", "submissions", "diagnosis"], rows, frozenset({1}))
               if rows else "<p>No failing cases.</p>")
    return out


def _errors(errors: list[SubmissionRow], graded: list[SubmissionRow]) -> list[str]:
    e = html.escape
    out = ["<h2>Errors and timeouts</h2>"]
    if errors:
        out.append(f"<p>{len(errors)} submission{'s' * (len(errors) != 1)} could not be "
                   "graded (nothing of them ran, so they score 0):</p>")
        out.append(_table(["submission", "file", "reason", "message"],
                          [[e(s.submission), e(s.file), e(s.reason), e(s.message)]
                           for s in errors[:200]]))
    by_status: dict[str, dict[str, list[str]]] = {"timeout": {}, "error": {}}
    for s in graded:
        for it in s.items:
            if it.status in by_status:
                by_status[it.status].setdefault(it.item, []).append(s.submission)
    rows = []
    for label, table in by_status.items():
        for item, keys in sorted(table.items(), key=lambda kv: -len(kv[1])):
            rows.append([e(item), label, str(len(keys)),
                         e(", ".join(keys[:8]) + (" ..." if len(keys) > 8 else ""))])
    if rows:
        out.append("<p>Items that raised an error or ran out of time in graded "
                   "submissions:</p>")
        out.append(_table(["item", "status", "submissions", "which"], rows, frozenset({2})))
    if not errors and not rows:
        out.append("<p>None.</p>")
    return out


def _people(c: ClassCounts, subs: list[SubmissionRow]) -> list[str]:
    e = html.escape
    out = []
    if c.identical_groups:
        out.append("<h2>Identical submissions</h2>")
        out.append("<p class=\"muted\">Byte-identical files handed in as different "
                   "submissions (group members share one submission and are not here).</p>")
        out.append(_table(["submissions", "how many"],
                          [[e(", ".join(g)), str(len(g))] for g in c.identical_groups],
                          frozenset({1})))
    if c.no_submission or c.not_on_roster:
        out.append("<h2>Roster</h2>")
        for label, who_ in (("No submission", c.no_submission),
                            ("Not on the roster", c.not_on_roster)):
            if who_:
                out.append(f"<p><b>{label}</b> ({len(who_)}): "
                           f"{e(', '.join(who(st) for st in who_))}</p>")
    notes = [[e(s.submission), e(n.kind), e(n.text)] for s in subs for n in s.notes][:200]
    if notes:
        out.append("<h2>Notes</h2>")
        out.append("<p class=\"muted\">Which file was graded, groups, late submissions, "
                   "skipped notebook cells.</p>")
        out.append(_table(["submission", "kind", "note"], notes))
    slow = sorted(subs, key=lambda s: -s.seconds)[:SLOWEST]
    out.append("<h2>Slowest submissions</h2>")
    out.append(_table(["submission", "seconds", "score", "status"],
                      [[e(s.submission), f"{s.seconds:.2f}", points(s.score), e(s.status)]
                       for s in slow], frozenset({1, 2})))
    return out


def build(data: ExportData) -> str:
    """The report's HTML."""
    e = html.escape
    subs = data.submissions
    c = counts(data)
    graded = [s for s in subs if s.status == "graded"]
    versions = Counter(s.version for s in subs)
    parts = [f"<h1>{e(data.assignment)}: batch grading report</h1>",
             f"<p class=\"muted\">{len(subs)} submissions from the last run; assignment "
             f"version{'s' * (len(versions) > 1)} "
             f"{e(', '.join(f'{v} ({n})' for v, n in versions.most_common()))}.</p>",
             _cards(c), "<h2>Scores</h2>",
             "<p class=\"muted\">Every submission, those that could not be graded at 0.</p>",
             histogram([s.score for s in subs], data.max_score)]
    parts += _items(data, graded)
    parts += _diagnoses(graded)
    parts += _errors([s for s in subs if s.status != "graded"], graded)
    parts += _people(c, subs)
    return page(f"{data.assignment}: grading report", "\n".join(parts), REPORT_STYLE)


def write_report(data: ExportData, out: Path) -> Path:
    if not out.parent.exists():
        from grader.errors import UsageError

        raise UsageError(f"cannot write {out}: {out.parent} does not exist")
    out.write_text(build(data), encoding="utf-8")
    return out


__all__ = ["SubmissionRow", "build", "diagnosis", "write_report"]
