"""An audit report shown: a terminal table per item, JSON, and a self-contained HTML page.

All three read the fields of :class:`~grader.audit.model.AuditReport`; none parses
another's wording.  Source text is escaped in the HTML page.
"""

from __future__ import annotations

import html
import json
from typing import TextIO

from grader.audit.model import AuditReport, ItemSummary, MutantResult

__all__ = ["render_html", "render_json", "render_text"]


def _pct(s: ItemSummary) -> str:
    return "—" if s.score is None else f"{s.score:.1f}%"


def _row(s: ItemSummary) -> tuple[str, ...]:
    return (s.item, str(s.mutants), str(s.killed), str(s.equivalent), str(s.survived),
            str(s.collateral), _pct(s))


HEADER = ("item", "mutants", "killed", "equivalent", "survived", "collateral", "score")


def _clip(text: str, n: int = 150) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _listing(title: str, rows: list[MutantResult], ref: str, extra: str = "") -> list[str]:
    if not rows:
        return []
    out = [f"{title} ({len(rows)}):"]
    for r in rows:
        what = {"collateral": "costs points on " + ", ".join(r.collateral),
                "equivalent": r.equivalent_reason}.get(extra, "")
        out.append(f"  {r.mutant.id}  [{r.mutant.operator}]" + (f"  {what}" if what else ""))
        out.append(f"    {_clip(r.mutant.diff(ref))}")
    return out


def render_text(rep: AuditReport, out: TextIO, *, show_equivalent: bool = False) -> None:
    """The per-item table, then every survivor (and collateral) as a one-line diff."""
    rows = [_row(s) for s in rep.by_item()] + [_row(rep.total())]
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))

    print(f"{rep.assignment} (version {rep.version}): {rep.total().mutants} mutants of "
          f"{rep.reference}", file=out)
    print(line(HEADER), file=out)
    for r in rows[:-1]:
        print(line(r), file=out)
    print(line(rows[-1]), file=out)
    print(f"mutation score {rep.score:.1f}% over non-equivalent mutants; graded "
          f"{rep.graded}, from the cache {rep.cached}, in {rep.seconds:.1f} s", file=out)
    text = _listing("survivors", rep.survivors, rep.reference)
    text += _listing("collateral", rep.with_collateral, rep.reference, "collateral")
    text += _listing("declared equivalent but killed (fix the declaration)",
                     [r for r in rep.results if r.wrongly_equivalent], rep.reference)
    if show_equivalent:
        text += _listing("equivalent", [r for r in rep.results if r.status == "equivalent"],
                         rep.reference, "equivalent")
    if rep.stale:
        text.append(f"declared equivalents that match no mutant ({len(rep.stale)}): "
                    + ", ".join(rep.stale))
    for t in text:
        print(t, file=out)


def render_json(rep: AuditReport) -> str:
    return json.dumps(rep.to_json(), indent=2, ensure_ascii=False)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}
td.n{text-align:right}tr.total{font-weight:bold}code{font-size:.9em}
.del{background:#fdd}.ins{background:#dfd}.survived{background:#fee}
.equivalent{background:#eef}.killed{background:#efe}pre{margin:.2em 0;white-space:pre-wrap}"""


def _summary_table(rep: AuditReport) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADER)
    body = []
    for s, cls in [*((s, "") for s in rep.by_item()), (rep.total(), "total")]:
        cells = _row(s)
        body.append(f'<tr class="{cls}"><td>{e(cells[0])}</td>'
                    + "".join(f'<td class="n">{e(c)}</td>' for c in cells[1:]) + "</tr>")
    return f'<table id="items"><tr>{head}</tr>{"".join(body)}</table>'


def _mutant_rows(rep: AuditReport) -> str:
    e = html.escape
    order = {"survived": 0, "equivalent": 1, "killed": 2}
    rows = []
    for r in sorted(rep.results, key=lambda r: (order[r.status], r.mutant.line)):
        m = r.mutant
        note = r.equivalent_reason if r.status == "equivalent" else (
            "costs points on " + ", ".join(r.collateral) if r.collateral else "")
        rows.append(
            f'<tr class="{e(r.status)}" data-id="{e(m.id)}"><td><code>{e(m.id)}</code></td>'
            f"<td>{e(r.status)}</td><td>{e(m.operator)}</td>"
            f"<td>{e(rep.reference)}:{m.line}"
            f'<pre class="del">- {e(m.before)}</pre><pre class="ins">+ {e(m.after)}</pre></td>'
            f"<td>{e(note)}</td></tr>")
    return ('<table id="mutants"><tr><th>mutant</th><th>status</th><th>operator</th>'
            f'<th>change</th><th>note</th></tr>{"".join(rows)}</table>')


def render_html(rep: AuditReport) -> str:
    """One self-contained page: the per-item table, then every mutant with its diff."""
    e = html.escape
    title = f"Mutation audit of {rep.assignment}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f"</title><style>{CSS}</style></head><body><h1>{e(title)}</h1>"
            f'<p id="score">Mutation score <b>{rep.score:.1f}%</b> over non-equivalent '
            f"mutants ({rep.total().mutants} mutants of {e(rep.reference)}, version "
            f"{e(rep.version)}).</p>{_summary_table(rep)}<h2>Mutants</h2>"
            f"{_mutant_rows(rep)}</body></html>\n")
