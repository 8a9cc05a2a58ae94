"""``grade ASSIGNMENT --html FILE``: one self-contained page of a student's result.

The table, why the file did not load (with its line), notes, what the module printed,
the details of failed public cases, a plot of every public case declared
``plot="path"`` (its returned path beside the expected one) and of every declared
``curve`` (the submission's, say its training loss per epoch, beside the reference's;
computed when the page is asked for, see :mod:`grader.judge.curves`), drawn with
matplotlib and embedded as PNG.  Everything the submission wrote (output, messages, values) is
escaped.  The page needs no network and no script.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from grader.result import CaseResult, Result

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.passed{color:#176f2c}.partial{color:#9a6700}.failed,.error{color:#b42318}
.timeout{color:#7a2e98}.missing{color:#666}pre{background:#f6f8fa;padding:.6em;overflow:auto}
.err{border-left:4px solid #b42318;padding-left:.8em}figure{margin:1em 0}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def path_figure(plot: dict[str, Any], title: str) -> str:
    """A ``path`` plot as an embedded PNG: the first two coordinates of each iterate
    (or the one coordinate against the step), returned beside expected."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    got, exp = np.asarray(plot["got"], float), np.asarray(plot["expected"], float)
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=96)
    for a, label, style in ((exp, "expected", "o-"), (got, "yours", "x--")):
        if a.shape[1] >= 2:
            ax.plot(a[:, 0], a[:, 1], style, label=label)
        else:
            ax.plot(np.arange(len(a)), a[:, 0], style, label=label)
    ax.set_xlabel("w[0]" if got.shape[1] >= 2 else "step")
    ax.set_ylabel("w[1]" if got.shape[1] >= 2 else "w[0]")
    ax.set_title(title, fontsize=10)
    ax.legend()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure><img alt="{_e(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(title)}</figcaption></figure>")


def curve_figure(plot: dict[str, Any], title: str) -> str:
    """A ``curve`` plot as an embedded PNG: the measured quantity against the varied
    argument, the reference's line and the submission's (when it has one; else the note
    says why not)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from grader.reports.figures import png_data_uri

    label = str(plot.get("label", ""))
    xlabel = str(plot.get("xlabel", ""))
    x, exp, got = list(plot.get("x", [])), plot.get("expected", []), plot.get("got", [])
    fig = Figure(figsize=(5.5, 3.6))
    ax = fig.add_subplot()
    if len(exp) == len(x):
        ax.plot(x, exp, "o-", label="expected (the reference)")
    if got and len(got) == len(x):
        ax.plot(x, got, "x--", label="yours")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    ax.set_title(title, fontsize=10)
    ax.legend()
    caption = f"{title}: {label}"
    note = plot.get("note") or ""
    extra = f"<p class='note'>{_e(note)}</p>" if note else ""
    return (f'<figure class="curve"><img alt="{_e(caption)}" src="{png_data_uri(fig)}">'
            f"<figcaption>{_e(caption)}</figcaption>{extra}</figure>")


def _case(item: str, c: CaseResult) -> str:
    parts = [f"<h3>{_e(item)} / {_e(c.name)}</h3>", f"<p class='{_e(c.status)}'>"
             f"{_e(c.message)}</p>"]
    if c.details:
        parts.append(f"<pre>{_e(c.details)}</pre>")
    if c.output:
        parts.append(f"<p>printed during this case:</p><pre>{_e(c.output)}</pre>")
    return "\n".join(parts)


def page(result: Result) -> str:
    """The whole page of ``result``, as HTML text."""
    from grader.reports.render import points

    out = [f"<h1>{_e(result.assignment)}: {_e(result.submission)}</h1>"]
    if result.load_error:
        caret = " " * max(0, (result.load_column or 1) - 1) + "^"
        src = f"<pre>{_e(result.load_source)}\n{caret}</pre>" if result.load_source else ""
        out.append(f"<div class='err'><p>{_e(result.load_error)}</p>{src}</div>")
    rows = "".join(f"<tr><td>{_e(it.id)}</td><td>{points(it.score)}/{points(it.max_score)}"
                   f"</td><td class='{_e(it.status)}'>{_e(it.status)}</td>"
                   f"<td>{_e(it.feedback)}</td></tr>" for it in result.items)
    scope = "" if result.mode == "full" else " (public cases only)"
    out += ["<table><tr><th>item</th><th>points</th><th>status</th><th>feedback</th></tr>"
            f"{rows}</table>",
            f"<p><b>Total: {points(result.score)}/{points(result.max_score)}{scope}</b></p>"]
    out += [f"<p class='note'>note: {_e(n)}</p>" for n in result.notes]
    if result.output:
        out.append(f"<p>printed while your file was imported:</p><pre>{_e(result.output)}</pre>")
    plots = [(it.id, c) for it in result.items for c in it.cases
             if c.plot and c.plot.get("kind") != "curve"]
    if plots:
        out.append("<h2>Paths</h2>")
        out += [path_figure(c.plot, f"{item} / {c.name}") for item, c in plots]
    curves = [(it.id, c) for it in result.items for c in it.cases
              if c.plot.get("kind") == "curve"]
    if curves:
        out.append("<h2>Curves</h2>")
        out += [curve_figure(c.plot, f"{item} / {c.name}") for item, c in curves]
    failed = [(it.id, c) for it in result.items for c in it.cases
              if not c.passed and c.visibility == "public"]
    if failed:
        out.append("<h2>Failed public cases</h2>")
        out += [_case(item, c) for item, c in failed]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_e(result.assignment)}: {_e(result.submission)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(out)}</body></html>\n")


def write_page(result: Result, path: Path) -> None:
    """Write the page of ``result`` to ``path`` (a one-line error if that fails)."""
    from grader.errors import UsageError

    try:
        path.write_text(page(result), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}: give a writable file") from None
