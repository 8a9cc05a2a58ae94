"""``grade course``'s outputs: a table, one student's breakdown, a Canvas CSV, and an HTML
page with the distribution of final grades and of each component (matplotlib)."""

from __future__ import annotations

import csv
import html
import statistics
from collections import Counter
from pathlib import Path

from grader.errors import UsageError
from grader.policy.grades import DROPPED, EXCUSED, MISSING, CourseGrade, Part, contribution
from grader.policy.standings import ClassGrades
from grader.reports.render import points

CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def _pct(p: float | None) -> str:
    return "excused" if p is None else f"{p:.2f}"


def table(cg: ClassGrades) -> list[str]:
    """A row per student: each top-level component's percent, the total and the letter."""
    names = [p.name for p in cg.grades[0].parts] if cg.grades else []
    rows = [["student", *names, "total", "letter"]]
    rows += [[g.student, *(_pct(p.percent) for p in g.parts), f"{g.percent:.2f}", g.letter]
             for g in cg.grades]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]


def _entry_line(e: object, depth: int) -> str:
    from grader.policy.grades import Entry

    assert isinstance(e, Entry)
    got = "-" if e.score is None else points(e.score)
    if e.max_score <= 0:                 # no gradebook holds it yet
        why = "excused" if e.state == EXCUSED else "0"
        return f"{'  ' * depth}{e.name}: - (not graded: {why})"
    note = {DROPPED: " (dropped)", MISSING: " (missing: 0)", EXCUSED: " (excused)"}
    return f"{'  ' * depth}{e.name}: {got} / {points(e.max_score)}{note.get(e.state, '')}"


def _part_lines(p: Part, siblings: list[Part], depth: int) -> list[str]:
    out = [f"{'  ' * depth}{p.name} (weight {points(p.weight)}): {_pct(p.percent)}%"
           + (f" -> {contribution(p, siblings):.2f} points" if depth == 1 else "")]
    for k in p.children:
        out += _part_lines(k, p.children, depth + 1)
    out += [_entry_line(e, depth + 1) for e in p.entries]
    return out


def breakdown(g: CourseGrade) -> list[str]:
    """Every number behind one student's grade, from entries up to the total."""
    out = [f"{g.student}: {g.percent:.2f}% {g.letter}".rstrip()]
    for p in g.parts:
        out += _part_lines(p, g.parts, 1)
    return out


def write_csv(cg: ClassGrades, path: Path, column: str = "Course grade") -> int:
    """A Canvas gradebook import: the roster's columns, then the course grade (percent,
    out of 100) and its letter."""
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: {path.parent} does not exist")
    by_id = {e.id: e for e in cg.roster}
    rows = [[*CANVAS, column, f"{column} letter"],
            ["    Points Possible", "", "", "", "", "100", ""]]
    for g in cg.grades:
        e = by_id[g.student]
        rows.append([e.name, e.id, e.extra.get("sis_user_id", ""),
                     e.extra.get("sis_login_id", ""), e.extra.get("section", ""),
                     f"{g.percent:.2f}", g.letter])
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return len(cg.grades)


def _hist(values: list[float], title: str) -> str:
    from matplotlib.figure import Figure

    from grader.reports.figures import png_data_uri

    fig = Figure(figsize=(6, 2.6))
    ax = fig.add_subplot()
    ax.hist(values, bins=[5 * i for i in range(21)], color="#4c72b0", edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"{title} (percent)")
    ax.set_ylabel("students")
    ax.spines[["top", "right"]].set_visible(False)
    return png_data_uri(fig)


def _figure(values: list[float], title: str) -> str:
    stats = (f"mean {statistics.fmean(values):.1f}, median {statistics.median(values):.1f}"
             if values else "no values")
    return (f"<figure><img alt=\"distribution of {html.escape(title)}\" "
            f"src=\"{_hist(values, title)}\"><figcaption>{html.escape(title)}: "
            f"{stats}</figcaption></figure>")


def write_html(cg: ClassGrades, path: Path) -> None:
    """One self-contained page: final grades' and each component's distribution, the
    letters' counts, the table, and who is missing where."""
    from grader.reports.page import page
    from grader.reports.report import REPORT_STYLE

    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: {path.parent} does not exist")
    esc = html.escape
    body = ["<h1>Course grades</h1>", _figure([g.percent for g in cg.grades], "final grade")]
    letters = Counter(g.letter for g in cg.grades)
    body.append("<table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in letters) + "</tr><tr>"
                + "".join(f"<td>{v}</td>" for v in letters.values()) + "</tr></table>")
    names = [p.name for p in cg.grades[0].parts] if cg.grades else []
    every: dict[str, list[float]] = {}
    for g in cg.grades:
        for name, pct in _flat(g.parts):
            every.setdefault(name, []).extend([pct] if pct is not None else [])
    body += [_figure(vals, name) for name, vals in every.items()]
    rows = [f"<tr><td>{esc(g.student)}</td>" + "".join(
        f"<td class=\"num\">{_pct(p.percent)}</td>" for p in g.parts)
        + f"<td class=\"num\">{g.percent:.2f}</td><td>{esc(g.letter)}</td></tr>"
        for g in cg.grades]
    head = "".join(f"<th>{esc(n)}</th>" for n in ["student", *names, "total", "letter"])
    body.append(f"<h2>Students</h2><table><thead><tr>{head}</tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>")
    body += _missing_html(cg)
    path.write_text(page("Course grades", "\n".join(body), REPORT_STYLE), encoding="utf-8")


def _flat(parts: list[Part], prefix: str = "") -> list[tuple[str, float | None]]:
    """Every component, nested ones too (``participation / ed``), with its percent."""
    out = []
    for p in parts:
        name = f"{prefix}{p.name}"
        out.append((name, p.percent))
        out += _flat(p.children, f"{name} / ")
    return out


def _missing_html(cg: ClassGrades) -> list[str]:
    out = []
    for title, table_ in (("Not on the roster", cg.not_on_roster),
                          ("On the roster, no entry", cg.no_entry)):
        for source, ids in table_.items():
            out.append(f"<h3>{html.escape(title)}: {html.escape(source)}</h3><p>"
                       + html.escape(", ".join(ids)) + "</p>")
    return out
