"""``grade similarity``: measured on a corpus of independent solutions and disguised copies
(tests/similarity_corpus.py), through the library API, the ``grade`` command and the HTML
report in headless Chromium."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader.similarity import Settings, check
from grader.similarity.tokens import token_id, tokenize_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from similarity_corpus import REFERENCE, SECOND_HALF, corpus, solution  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", "similarity", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory):
    """The corpus, and one check of it with the reference and every sharing pair compared."""
    base = tmp_path_factory.mktemp("corpus")
    c = corpus(base / "subs")
    r = check("hw1", c.folder, root=ROOT, db=base / "gradebook.sqlite", reference=True,
              settings=Settings(floor=0.0))
    return c, r


# ----------------------------------------------------------------------------- accuracy


def test_every_copied_pair_ranks_above_every_independent_pair(measured):
    c, r = measured
    copies = [p for p in r.pairs if c.is_copy(p.a, p.b)]
    independent = [p for p in r.pairs if not c.is_copy(p.a, p.b)]
    assert len(copies) == len(c.copied) == 11      # every copied pair is compared
    assert independent, "independent pairs that share some code are compared too"
    worst_copy = max(r.rank_of(p.a, p.b) for p in copies)
    best_independent = min(r.rank_of(p.a, p.b) for p in independent)
    assert worst_copy < best_independent
    assert min(p.similarity for p in copies) > max(p.similarity for p in independent) + 0.1


def test_precision_and_recall_at_the_default_threshold(measured):
    c, r = measured
    flagged = {frozenset((p.a, p.b)) for p in r.pairs if p.similarity >= 0.5}
    tp = len(flagged & c.copied)
    precision = tp / len(flagged)
    recall = tp / len(c.copied)
    assert (precision, recall) == (1.0, 1.0)


def test_clusters_of_three_copies(measured):
    _, r = measured
    assert ["s01", "s07", "s11"] in r.clusters
    assert ["s03", "s09", "s14"] in r.clusters
    assert ["s02", "s08", "s12"] in r.clusters


def test_a_copy_of_the_reference_is_flagged_against_it(measured):
    _, r = measured
    pair = next(p for p in r.pairs if {p.a, p.b} == {"s13", REFERENCE})
    assert pair.flagged and pair.similarity > 0.9


def test_per_function_breakdown_names_the_copied_half(measured):
    from grader.similarity.table import matching_functions

    _, r = measured
    pair = next(p for p in r.pairs if {p.a, p.b} == {"s02", "s12"})
    matched = set(matching_functions(pair, r.graded))
    assert {"graph_backward", "mlp_forward", "mlp_backward", "init_mlp"} <= matched
    assert matched <= SECOND_HALF
    assert 0.4 < min(pair.cover_a, pair.cover_b) < 0.7 < max(pair.cover_a, pair.cover_b)


def test_fragments_point_at_the_same_code_in_both_files(measured):
    c, r = measured
    pair = next(p for p in r.pairs if {p.a, p.b} == {"s01", "s07"})
    a = (c.folder / f"{pair.a}.py").read_text().splitlines()
    b = (c.folder / f"{pair.b}.py").read_text().splitlines()
    f = pair.fragments[0]
    assert f.lines >= 10 and pair.longest == max(g.lines for g in pair.fragments)
    code_a = [ln.strip() for ln in a[f.a_first - 1:f.a_last] if ln.strip().startswith("return")]
    code_b = [ln.strip() for ln in b[f.b_first - 1:f.b_last] if ln.strip().startswith("return")]
    assert len(code_a) == len(code_b) > 0     # renamed, so compare the statements' shape
    assert [s.split()[0] for s in code_a] == [s.split()[0] for s in code_b]


# ----------------------------------------------------------------------------- tokens


def test_renaming_constants_comments_and_docstrings_change_no_token():
    one = "def f(x, n):\n    total = 0\n    for i in range(n):\n        total += x[i] * 2.5\n    return total\n"
    two = ('def f(x, n):\n    """Sum it."""\n    acc = 1  # start\n\n    for k in range(n):\n'
           "        acc += x[k] * 7  # scaled\n    return acc\n")
    t1, t2 = tokenize_source(one), tokenize_source(two)
    assert list(t1.ids) == list(t2.ids)
    assert t1.funcs == [("f", 0, len(t1))]
    three = one.replace("range(n)", "len(x)")        # a builtin is kept: not the same
    assert list(tokenize_source(three).ids) != list(t1.ids)
    four = one.replace("x[i] * 2.5", "x.sum()")      # attribute names are kept
    assert tokenize_source(four).ids.tolist() != tokenize_source(
        one.replace("x[i] * 2.5", "x.mean()")).ids.tolist()


def test_source_that_stops_being_python_is_read_up_to_there():
    t = tokenize_source("def f(x):\n    return x + 1\n\ndef g(:\n    y = (1,\n")
    assert t.stopped > 0 and len(t) > 5 and t.funcs[0][0] == "f"


def test_the_hash_is_the_same_in_another_process():
    out = subprocess.run([sys.executable, "-c", "from grader.similarity.tokens import token_id;"
                          "print(token_id('return'))"], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert int(out.stdout) == token_id("return")


# ----------------------------------------------------------------------------- what is left out


def _two(folder: Path, a: str, b: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ann.py").write_text(a, encoding="utf-8")
    (folder / "ben.py").write_text(b, encoding="utf-8")


def test_the_starter_code_is_not_evidence(tmp_path):
    # two different solutions of the first half: all they share is the stub and OPS
    _two(tmp_path / "s", solution("loops", {"sigmoid", "perceptron", "sgd", "minibatches"}),
         solution("plain", {"graph_forward", "mlp_backward", "init_mlp"}))
    (tmp_path / "s" / "cat.py").write_text((ROOT / "exercises" / "hw1.py").read_text())
    r = check("hw1", tmp_path / "s", root=ROOT, settings=Settings(floor=0.0))
    assert [s.key for s in r.skipped] == ["cat"]
    assert "nothing to compare" in r.skipped[0].message and r.skipped[0].reason == "starter"
    assert all(p.similarity < 0.1 for p in r.pairs)


def test_fragments_common_to_the_class_are_dropped(tmp_path):
    helper = ("\n\ndef shared_helper(values, weights):\n    total = 0.0\n    for v, w in "
              "zip(values, weights):\n        if v > 0:\n            total += v * w\n"
              "        else:\n            total -= w\n    return total / max(len(values), 1)\n")
    folder = tmp_path / "s"
    folder.mkdir()
    own = ["loops", "vector", "helpers", "plain", "partial_early"]
    for i, author in enumerate(own):
        mine = {"perceptron", "minibatches", "graph_forward", "mlp_backward"}
        (folder / f"st{i}.py").write_text(solution(author, mine) + helper)
    default = check("hw1", folder, root=ROOT, settings=Settings(floor=0.0))
    everything = check("hw1", folder, root=ROOT, settings=Settings(floor=0.0, common=1.0))
    assert not default.flagged and default.common_dropped > 0
    assert not any("shared_helper" in p.functions for p in default.pairs)
    with_helper = [p for p in everything.pairs
                   if min(p.functions.get("shared_helper", (0, 0))) > 0.9]
    assert len(with_helper) == 10             # every pair of the five, once it counts
    assert max(p.similarity for p in everything.pairs) > max(
        [p.similarity for p in default.pairs] or [0.0])


def test_members_of_one_group_are_never_flagged(tmp_path):
    subs = tmp_path / "subs"
    text = solution("vector")
    for key, other in (("g1", "g2"), ("g2", "g1")):
        (subs / key).mkdir(parents=True)
        (subs / key / "hw1.py").write_text(text)
        (subs / key / "group.txt").write_text(other + "\n")
    (subs / "zed.py").write_text(text)
    r = check("hw1", subs, root=ROOT)
    assert r.same_group == 1
    assert {frozenset((p.a, p.b)) for p in r.flagged} == {frozenset(("g1", "zed")),
                                                          frozenset(("g2", "zed"))}


# ----------------------------------------------------------------------------- the command


def _notebook(code: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# hw1"}]
    for chunk in code.split("\n\n\ndef "):
        src = chunk if chunk.startswith(("#", "from", "import")) else "def " + chunk
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None,
                      "outputs": [], "source": src})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_command_with_bad_inputs_notebooks_csv_and_a_rerun(measured, tmp_path):
    c, _ = measured
    subs = tmp_path / "subs"
    shutil.copytree(c.folder, subs)
    (subs / "nb.ipynb").write_text(_notebook((subs / "s04.py").read_text()))
    (subs / "empty.py").write_text("")
    (subs / "blob.py").write_bytes(b"\x00\x01binary")
    (subs / "nocode.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "only words"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    db, out = tmp_path / "gb.sqlite", tmp_path / "pairs.csv"
    first = cli("hw1", str(subs), "--db", str(db), "--csv", str(out))
    assert first.returncode == 0, first.stderr
    assert "skipped (3):" in first.stdout
    for words in ("empty.py is an empty file", "blob.py is a binary file",
                  "nocode.ipynb has no code cells"):
        assert words in first.stdout
    rows = list(csv.DictReader(out.open()))
    flagged = {frozenset((r["a"], r["b"])) for r in rows if r["flagged"] == "1"}
    assert frozenset(("nb", "s04")) in flagged and frozenset(("s01", "s07")) in flagged
    again = cli("hw1", str(subs), "--db", str(db))
    assert again.returncode == 0
    assert "unchanged since the last run: 15 files" in again.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM similarity_runs").fetchone()[0] == 2
        n = conn.execute("SELECT COUNT(*) FROM similarity_pairs WHERE flagged = 1").fetchone()
    assert n[0] == len(flagged)


def test_a_rerun_compares_only_what_is_new(measured, tmp_path):
    c, _ = measured
    subs = tmp_path / "subs"
    shutil.copytree(c.folder, subs)
    db = tmp_path / "gb.sqlite"
    before = check("hw1", subs, root=ROOT, db=db)
    (subs / "s99.py").write_text((subs / "s04.py").read_text() + "\n# late\n")
    after = check("hw1", subs, root=ROOT, db=db)
    assert after.reused_files == len(before.entries)      # no file read again
    old = {(p.a, p.b): p for p in before.pairs}
    again = [p for p in after.pairs if (p.a, p.b) in old]
    assert after.reused_pairs == sum(p.reused for p in again) > len(again) // 2
    for p in again:     # compared again only where the shared fingerprints changed
        assert p.reused == (p.digest == old[(p.a, p.b)].digest)
        if p.reused:
            assert p.similarity == old[(p.a, p.b)].similarity
    new = [p for p in after.pairs if "s99" in (p.a, p.b)]
    assert new and not any(p.reused for p in new)
    assert {frozenset((p.a, p.b)) for p in new if p.flagged} >= {frozenset(("s04", "s99"))}


def test_bad_usage_is_one_line_and_exit_2(tmp_path):
    for args, words in ((["hw1", str(tmp_path / "missing")], "no such folder"),
                        (["hw9", str(tmp_path)], "no starter code for 'hw9'"),
                        (["hw1", str(tmp_path), "--threshold", "2"], "--threshold must be")):
        r = cli(*args, "--db", str(tmp_path / "gb.sqlite"))
        assert r.returncode == 2 and words in r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- HTML in Chromium


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def test_html_report_in_headless_chromium(measured, tmp_path):
    from grader.similarity.html import write_html

    browser = _chromium()
    if browser is None:
        pytest.skip("chromium cannot be installed here (CI installs it: .ci/run)")
    c, _ = measured
    subs = tmp_path / "subs"
    subs.mkdir()
    for key in ("s01", "s04", "s07", "s10"):     # a small page: the browser starts faster
        shutil.copy(c.folder / f"{key}.py", subs)
    hostile = "</pre><script>document.body.dataset.pwned='1'</script><b>x</b>"
    text = (subs / "s04.py").read_text()
    (subs / "evil.py").write_text(text.replace("import numpy as np",
                                               f"import numpy as np  # {hostile}", 1))
    r = check("hw1", subs, root=ROOT)
    page = tmp_path / "report.html"
    write_html(r, page)
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90).stdout
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.body: dict[str, str | None] = {}
            self.sections: list[dict[str, str | None]] = []
            self.scripts = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "body":
                self.body = a
            if tag == "section":
                self.sections.append(a)
            if tag == "script":
                self.scripts += 1

    seen = Collect()
    seen.feed(dom)
    assert seen.body.get("data-pairs") == str(len(r.flagged)) != "0"   # the page's JS ran
    assert "data-pwned" not in dom and seen.scripts == 1
    assert "&lt;/pre&gt;&lt;script&gt;document.body.dataset.pwned" in dom
    for s in seen.sections:                   # fragments highlighted in both panes
        a, b = (int(x) for x in str(s["data-marks"]).split("/"))
        assert a > 0 and b > 0
    assert any(s["id"] == f"pair-{r.rank_of('evil', 's04')}" for s in seen.sections)
