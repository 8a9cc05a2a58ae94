"""The similarity report as one self-contained HTML page (no network, opens offline).

The page lists the ranked pairs, the clusters and what was skipped, then shows each
flagged pair side by side: both files with line numbers, each shared fragment marked in
the same colour in both panes; clicking a fragment in one pane scrolls the other to it.
Every piece of submission text (code, file names, student ids) is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.similarity.pairs import Fragment, Pair
from grader.similarity.run import SimilarityReport
from grader.similarity.sources import read_code
from grader.similarity.table import matching_functions, summary_lines

__all__ = ["render_html", "write_html"]

_COLOURS = 8
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#f3f3f3;text-align:left}td.num{text-align:right}
tr.flagged td{font-weight:600}
.panes{display:flex;gap:8px}.pane{flex:1;min-width:0}
.pane h4{margin:.3em 0;font-family:monospace}
pre.code{height:32em;overflow:auto;border:1px solid #bbb;margin:0;padding:0;
font:12px/1.35 ui-monospace,monospace;white-space:pre}
.ln{display:block;padding:0 4px}.ln::before{content:attr(data-n);display:inline-block;
width:3.5em;color:#999;text-align:right;margin-right:.8em}
mark{display:block;color:inherit;cursor:pointer}
.f0{background:#ffe08a}.f1{background:#b8e6ff}.f2{background:#c9f2c0}.f3{background:#ffc9de}
.f4{background:#e2d1ff}.f5{background:#ffd7b0}.f6{background:#c8f0ec}.f7{background:#eee2a0}
mark.hit{outline:2px solid #d33}
"""
_SCRIPT = """
(function(){
  function jump(ev){
    var m=ev.target.closest('mark'); if(!m) return;
    var pair=m.closest('section'); var side=m.closest('pre').dataset.side;
    var other=pair.querySelector('pre[data-side="'+(side==='a'?'b':'a')+'"]');
    var t=other.querySelector('mark[data-frag="'+m.dataset.frag+'"]');
    pair.querySelectorAll('mark.hit').forEach(function(x){x.classList.remove('hit');});
    if(t){other.scrollTop=t.offsetTop-other.offsetTop-20;t.classList.add('hit');}
    m.classList.add('hit');
  }
  document.querySelectorAll('pre.code').forEach(function(p){
    p.addEventListener('click',jump);
    var first=p.querySelector('mark[data-frag="0"]');   /* open at the longest fragment */
    if(first){p.scrollTop=first.offsetTop-p.offsetTop-20;}
  });
  var n=0;document.querySelectorAll('section.pair').forEach(function(s){
    var a=s.querySelectorAll('pre[data-side="a"] mark').length;
    var b=s.querySelectorAll('pre[data-side="b"] mark').length;
    s.dataset.marks=a+'/'+b; n++;});
  document.body.dataset.pairs=String(n);
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _line_frags(frags: list[Fragment], side: str) -> dict[int, int]:
    """Line -> the fragment shown on it (the longest covering it)."""
    out: dict[int, int] = {}
    for i, f in sorted(enumerate(frags), key=lambda t: -t[1].tokens):
        lo, hi = (f.a_first, f.a_last) if side == "a" else (f.b_first, f.b_last)
        for line in range(lo, hi + 1):
            out.setdefault(line, i)
    return out


def _pane(code: str | None, frags: list[Fragment], side: str, title: str) -> str:
    if code is None:
        return f'<div class="pane"><h4>{_e(title)}</h4><p>(the file cannot be read now)</p></div>'
    marks = _line_frags(frags, side)
    rows = []
    for n, line in enumerate(code.splitlines(), 1):
        body = f'<span class="ln" data-n="{n}">{_e(line) or " "}</span>'
        if n in marks:
            i = marks[n]
            body = f'<mark class="f{i % _COLOURS}" data-frag="{i}">{body}</mark>'
        rows.append(body)
    return (f'<div class="pane"><h4>{_e(title)}</h4><pre class="code" data-side="{side}">'
            + "".join(rows) + "</pre></div>")


def _code(report: SimilarityReport, key: str) -> str | None:
    entry = next((e for e in report.entries if e.key == key), None)
    if entry is None:
        return None
    try:
        return read_code(entry.path)
    except SubmissionError:
        return None


def _functions_table(p: Pair, graded: list[str]) -> str:
    names = matching_functions(p, graded)
    if not names:
        return "<p>No function is half shared.</p>"
    rows = "".join(f"<tr><td>{_e(n)}</td><td class='num'>{p.functions[n][0]:.0%}</td>"
                   f"<td class='num'>{p.functions[n][1]:.0%}</td></tr>" for n in names)
    shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
    return (f"<details{' open' if len(names) <= 8 else ''}><summary>{len(names)} functions "
            f"half shared or more: {_e(shown)}</summary><table class='functions'><tr>"
            f"<th>function</th><th>shared in a</th><th>shared in b</th></tr>{rows}</table>"
            "</details>")


def _pair_section(r: SimilarityReport, rank: int, p: Pair) -> str:
    frags = "".join(
        f"<li class='f{i % _COLOURS}'>lines {f.a_first}-{f.a_last} of a, {f.b_first}-"
        f"{f.b_last} of b ({f.tokens} tokens)</li>" for i, f in enumerate(p.fragments[:12]))
    return (f'<section class="pair" id="pair-{rank}"><h3>#{rank}: {_e(p.a)} and {_e(p.b)}, '
            f"similarity {p.similarity:.1%}</h3><p>{p.cover_a:.0%} of a and {p.cover_b:.0%} "
            f"of b are shared; longest fragment {p.longest} lines ({p.longest_tokens} "
            f"tokens).</p>{_functions_table(p, r.graded)}<details><summary>"
            f"{len(p.fragments)} fragments</summary><ol start='0'>{frags}</ol></details>"
            f'<div class="panes">{_pane(_code(r, p.a), p.fragments, "a", "a: " + p.a)}'
            f'{_pane(_code(r, p.b), p.fragments, "b", "b: " + p.b)}</div></section>')


def _ranking(r: SimilarityReport, shown: set[int], top: int) -> str:
    rows = []
    for i, p in enumerate(r.pairs, 1):
        if not (p.flagged or i <= top):
            continue
        link = f"<a href='#pair-{i}'>#{i}</a>" if i in shown else f"{i}"
        names = matching_functions(p, r.graded)
        funcs = ", ".join(names[:6]) + (f" (+{len(names) - 6})" if len(names) > 6 else "")
        rows.append(f"<tr class='{'flagged' if p.flagged else ''}'><td>{link}</td>"
                    f"<td>{_e(p.a)}</td><td>{_e(p.b)}</td>"
                    f"<td class='num'>{p.similarity:.1%}</td><td class='num'>{p.cover_a:.0%}"
                    f"</td><td class='num'>{p.cover_b:.0%}</td><td class='num'>{p.longest}"
                    f"</td><td>{_e(funcs)}</td></tr>")
    return ("<table class='ranking'><tr><th>rank</th><th>a</th><th>b</th><th>similarity</th>"
            "<th>cover a</th><th>cover b</th><th>longest (lines)</th><th>functions</th></tr>"
            + "".join(rows) + "</table>")


def render_html(r: SimilarityReport, *, top: int = 20, max_pairs: int = 50) -> str:
    """The whole page: ranking, clusters, skipped files, and the flagged pairs' views."""
    flagged = [(i, p) for i, p in enumerate(r.pairs, 1) if p.flagged][:max_pairs]
    shown = {i for i, _ in flagged}
    clusters = "".join(f"<li>{_e(', '.join(c))}</li>" for c in r.clusters) or "<li>none</li>"
    skipped = "".join(f"<li>{_e(s.key)}: {_e(s.message)}</li>" for s in r.skipped)
    more = (f"<p>Only the first {max_pairs} flagged pairs are shown side by side.</p>"
            if len(r.flagged) > max_pairs else "")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Similarity: {_e(r.assignment)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>Similarity: {_e(r.assignment)}</h1>"
            + "".join(f"<p class='summary'>{_e(s.strip())}</p>" for s in summary_lines(r))
            + f"<h2>Pairs</h2>{_ranking(r, shown, top)}<h2>Clusters</h2><ul>{clusters}</ul>"
            + (f"<h2>Skipped</h2><ul class='skipped'>{skipped}</ul>" if skipped else "")
            + f"<h2>Flagged pairs side by side</h2>{more}"
            + "".join(_pair_section(r, i, p) for i, p in flagged)
            + f"<script>{_SCRIPT}</script></body></html>")


def write_html(r: SimilarityReport, path: Path, **kw: int) -> None:
    """Write :func:`render_html`'s page to ``path`` (UTF-8)."""
    try:
        Path(path).write_text(render_html(r, **kw), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
