"""The report's charts as plain HTML and CSS: bars are boxes sized in percent.

No image, no script, nothing fetched: the page opens offline, scales with the window,
and its parts are elements a test (or a screen reader) can read.  The legend is a block
of its own above the bars, so it can never cover them; every bar carries its value in
``data-value`` and a ``title`` tooltip.
"""

from __future__ import annotations

import html

CHART_STYLE = """
.chart { margin: 0.5rem 0 1rem; max-width: 48rem; }
.legend { display: flex; gap: 1.2rem; font-size: 0.85rem; margin-bottom: 0.4rem; }
.legend .key { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem;
               vertical-align: -0.1rem; }
.bars .row { display: grid; grid-template-columns: 10rem 1fr 3.5rem; align-items: center;
             gap: 0.5rem; margin: 0.15rem 0; }
.bars .label { text-align: left; font-size: 0.85rem; overflow: hidden;
               text-overflow: ellipsis; white-space: nowrap; }
.bars .track { background: #f3f3f3; }
.bars .bar { height: 0.55rem; margin: 0.05rem 0; }
.bars .value { font-size: 0.8rem; text-align: right; color: #555; }
.c-mean { background: #4c72b0; } .c-pass { background: #55a868; } .c-hist { background: #4c72b0; }
.hist { display: flex; align-items: flex-end; height: 9rem; gap: 2px;
        border-bottom: 1px solid #999; }
.hist .bin { flex: 1; display: flex; flex-direction: column; justify-content: flex-end;
             height: 100%; }
.hist .bar { width: 100%; min-height: 0; }
.hist-axis { display: flex; justify-content: space-between; font-size: 0.8rem; color: #555; }
"""


def _legend(keys: list[tuple[str, str]]) -> str:
    return "<div class=\"legend\">" + "".join(
        f"<span><span class=\"key {cls}\"></span>{html.escape(label)}</span>"
        for cls, label in keys) + "</div>"


def item_bars(names: list[str], means: list[float], passes: list[float]) -> str:
    """Mean score and pass rate per item (both in percent), a row per item."""
    rows = []
    for name, mean, rate in zip(names, means, passes):
        m, r = max(0.0, min(100.0, mean)), max(0.0, min(100.0, rate))
        rows.append(
            f"<div class=\"row\" data-item=\"{html.escape(name)}\">"
            f"<span class=\"label\">{html.escape(name)}</span><div class=\"track\">"
            f"<div class=\"bar c-mean\" data-value=\"{m:.1f}\" style=\"width: {m:.1f}%\" "
            f"title=\"mean score {m:.0f}%\"></div>"
            f"<div class=\"bar c-pass\" data-value=\"{r:.1f}\" style=\"width: {r:.1f}%\" "
            f"title=\"pass rate {r:.0f}%\"></div></div>"
            f"<span class=\"value\">{m:.0f}/{r:.0f}</span></div>")
    return ("<figure class=\"chart items-chart\" aria-label=\"mean score and pass rate per "
            "item\">" + _legend([("c-mean", "mean score (% of the item's points)"),
                                 ("c-pass", "pass rate (% of graded submissions)")])
            + "<div class=\"bars\">" + "".join(rows) + "</div></figure>")


def histogram(scores: list[float], max_score: float, bins: int = 20) -> str:
    """Total scores in ``bins`` equal bins from 0 to ``max_score`` (full marks in the last)."""
    top = max_score if max_score > 0 else max(scores + [1.0])
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s / top * bins)))] += 1
    peak = max(counts + [1])
    cells = []
    for i, n in enumerate(counts):
        lo, hi = top * i / bins, top * (i + 1) / bins
        cells.append(f"<div class=\"bin\" data-count=\"{n}\" title=\"{lo:g}–{hi:g}: {n}\">"
                     f"<div class=\"bar c-hist\" style=\"height: {100 * n / peak:.1f}%\">"
                     "</div></div>")
    return ("<figure class=\"chart hist-chart\" aria-label=\"histogram of total scores\">"
            + _legend([("c-hist", f"submissions by total score (out of {top:g})")])
            + "<div class=\"hist\">" + "".join(cells) + "</div>"
            + f"<div class=\"hist-axis\"><span>0</span><span>{top / 2:g}</span>"
              f"<span>{top:g}</span></div></figure>")
