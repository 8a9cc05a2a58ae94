"""The TA's report on one assignment: one self-contained HTML page that opens offline.

Plots are drawn with matplotlib's Agg canvas (no pyplot, no global backend switch) and
embedded as base64 PNG data URIs; the style is inline; nothing is fetched from a network.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from grader.batch.gradebook import SubmissionRow
from grader.reports.exports import STYLE, ExportData, _page, _safe, points  # noqa: F401 - shared look

TOP_DIAGNOSES = 5
SLOWEST = 10

REPORT_STYLE = STYLE + """
body { max-width: 72rem; }
img { max-width: 100%; height: auto; }
.muted { color: #666; }
.bad { color: #a00; }
td.num { text-align: right; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
"""


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def histogram(scores: list[float], max_score: float) -> str:
    """A histogram of total scores as a PNG data URI."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot()
    top = max_score if max_score > 0 else max(scores + [1.0])
    bins = [top * i / 20 for i in range(21)]
    ax.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"total score (out of {points(top)})")
    ax.set_ylabel("submissions")
    ax.set_xlim(0, top)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def item_chart(names: list[str], means: list[float], passes: list[float]) -> str:
    """Mean score (% of the item's points) and pass rate per item, as a PNG data URI."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, max(2.5, 0.32 * len(names) + 1)))
    ax = fig.add_subplot()
    y = list(range(len(names)))
    h = 0.4
    ax.barh([v - h / 2 for v in y], means, height=h, label="mean score (%)", color="#4c72b0")
    ax.barh([v + h / 2 for v in y], passes, height=h, label="pass rate (%)", color="#55a868")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.legend(loc="lower right", fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def diagnosis(case: dict[str, Any]) -> str:
    """What a failing case has in common with the same slip elsewhere, from its fields: the
    slip the judge recognised, else what failed (a wrong value, shape, an exception...)."""
    if case.get("diagnosis"):
        return str(case["diagnosis"])[:200]
    check = str(case.get("check") or case.get("status") or "failed")
    return _CHECKS.get(check, check)[:200]


_CHECKS = {"value": "wrong values", "shape": "wrong shape", "type": "wrong type",
           "nonfinite": "NaN or inf", "keys": "a key is missing", "length": "wrong length",
           "dtype": "index arrays of another dtype", "load": "the submission does not load",
           "property": "the property checked does not hold",
           "not implemented": "not implemented yet (NotImplementedError)",
           "undefined": "not defined", "died": "the process died during the call",
           "timeout": "did not finish in time", "not run": "not run after earlier timeouts "
           "or crashes", "RuntimeWarning": "a RuntimeWarning escaped"}


def _table(head: list[str], rows: list[list[str]], num: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f"<td class=\"num\">{c}</td>" if i in num else f"<td>{c}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def build(data: ExportData) -> str:
    """The report's HTML."""
    e = html.escape
    subs = data.submissions
    graded = [s for s in subs if s.status == "graded"]
    errors = [s for s in subs if s.status == "error"]
    scores = [s.score for s in subs]
    students = data.students
    missing = [st for st in students if st.status == "no submission"]
    off_roster = [st for st in students if not st.on_roster] if any(
        st.on_roster for st in students) else []
    parts = [f"<h1>{e(data.assignment)}: batch grading report</h1>"]
    versions = Counter(s.version for s in subs)
    parts.append(f"<p class=\"muted\">{len(subs)} submissions from the last run; assignment "
                 f"version{'s' * (len(versions) > 1)} "
                 f"{e(', '.join(f'{v} ({n})' for v, n in versions.most_common()))}.</p>")
    cards = [("submissions", str(len(subs))), ("graded", str(len(graded))),
             ("errors", str(len(errors))), ("students", str(len(students))),
             ("no submission", str(len(missing))),
             ("mean", points(statistics.fmean(scores)) if scores else "–"),
             ("median", points(statistics.median(scores)) if scores else "–"),
             ("full marks", str(sum(abs(s.score - s.max_score) < 1e-9 for s in subs)))]
    parts.append("<div class=\"grid\">" + "".join(
        f"<div class=\"card\"><b>{v}</b>{e(k)}</div>" for k, v in cards) + "</div>")

    parts.append("<h2>Scores</h2>")
    image = histogram(scores, data.max_score)
    parts.append(f"<img alt=\"histogram of total scores\" src=\"{image}\">")

    # ---------------------------------------------------------------- per item
    parts.append("<h2>Items</h2>")
    parts.append(f"<p class=\"muted\">Over the {len(graded)} submissions that ran (the "
                 f"{len(errors)} that could not be graded are listed under errors).</p>")
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
    parts.append(f"<img alt=\"mean score and pass rate per item\" "
                 f"src=\"{item_chart(names, means, passes)}\">")
    parts.append(_table(["item", "title", "points", "mean", "mean %", "pass rate",
                         "other statuses"], rows, {2, 3, 4, 5}))

    # ---------------------------------------------------------------- diagnoses
    parts.append("<h2>Most common diagnoses per item</h2>")
    parts.append("<p class=\"muted\">Failing cases' messages, numbers masked as #, counted "
                 "once per submission.</p>")
    diag_rows = []
    for info in data.items:
        counts: Counter[str] = Counter()
        for s in graded:
            for it in s.items:
                if it.item == info.id:
                    counts.update({diagnosis(c) for c in it.cases if not c.get("passed")})
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for d, n in ranked[:TOP_DIAGNOSES]:
            diag_rows.append([e(info.id), str(n), e(d)])
    parts.append(_table(["item", "submissions", "diagnosis"], diag_rows, {1})
                 if diag_rows else "<p>No failing cases.</p>")

    # ---------------------------------------------------------------- errors & timeouts
    parts.append("<h2>Errors and timeouts</h2>")
    if errors:
        parts.append(f"<p>{len(errors)} submission{'s' * (len(errors) != 1)} could not be "
                     "graded (nothing of them ran, so they score 0):</p>")
        parts.append(_table(["submission", "file", "reason", "message"],
                            [[e(s.submission), e(s.file), e(s.reason), e(s.message)]
                             for s in errors[:200]]))
    timeouts: dict[str, list[str]] = {}
    crashes: dict[str, list[str]] = {}
    for s in graded:
        for it in s.items:
            if it.status == "timeout":
                timeouts.setdefault(it.item, []).append(s.submission)
            elif it.status == "error":
                crashes.setdefault(it.item, []).append(s.submission)
    rows = []
    for label, table in (("timeout", timeouts), ("error", crashes)):
        for item, keys in sorted(table.items(), key=lambda kv: -len(kv[1])):
            rows.append([e(item), label, str(len(keys)),
                         e(", ".join(keys[:8]) + (" ..." if len(keys) > 8 else ""))])
    if rows:
        parts.append("<p>Items that raised an error or ran out of time in graded "
                     "submissions:</p>")
        parts.append(_table(["item", "status", "submissions", "which"], rows, {2}))
    if not errors and not rows:
        parts.append("<p>None.</p>")

    # ---------------------------------------------------------------- slowest
    parts.append("<h2>Slowest submissions</h2>")
    slow = sorted(subs, key=lambda s: -s.seconds)[:SLOWEST]
    parts.append(_table(["submission", "seconds", "score", "status"],
                        [[e(s.submission), f"{s.seconds:.2f}", points(s.score), e(s.status)]
                         for s in slow], {1, 2}))

    # ---------------------------------------------------------------- roster
    if missing or off_roster:
        parts.append("<h2>Roster</h2>")
        if missing:
            parts.append(f"<p><b>No submission</b> ({len(missing)}): "
                         f"{e(', '.join(st.entry.id for st in missing))}</p>")
        if off_roster:
            parts.append(f"<p><b>Not on the roster</b> ({len(off_roster)}): "
                         f"{e(', '.join(st.entry.id for st in off_roster))}</p>")
    notes = [(s.submission, n.text) for s in subs for n in s.notes if n.kind == "choice"]
    if notes:
        parts.append("<h2>Which file was graded</h2>")
        parts.append(_table(["submission", "note"], [[e(k), e(n)] for k, n in notes]))
    return _page(f"{data.assignment}: grading report", "\n".join(parts), REPORT_STYLE)


def write_report(data: ExportData, out: Path) -> Path:
    if not out.parent.exists():
        from grader.errors import UsageError

        raise UsageError(f"cannot write {out}: {out.parent} does not exist")
    out.write_text(build(data), encoding="utf-8")
    return out


__all__ = ["SubmissionRow", "build", "diagnosis", "histogram", "item_chart", "write_report"]
