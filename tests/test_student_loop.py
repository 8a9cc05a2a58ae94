"""The student's own runs, through the ``grade`` command in a release copy: whole-file
problems said once, printed output shown with its case, readable details."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from pages import chromium_dom

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
NOT_LOADED = "not graded: the file did not load"


def student(release: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``grade ARGS`` run in the release copy (this checkout's engine), as a student would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=release,
                          capture_output=True, text=True, timeout=300, env=env)


def _submission(tmp_path: Path, extra: str, base: Path = REFERENCE) -> Path:
    p = tmp_path / "hw1.py"
    p.write_text(base.read_text(encoding="utf-8") + "\n\n" + extra + "\n", encoding="utf-8")
    return p


def test_a_syntax_error_is_one_line_before_the_table_with_a_caret(release, tmp_path):
    sub = _submission(tmp_path, "def broken(x:\n    return x")
    line = sub.read_text(encoding="utf-8").splitlines().index("def broken(x:") + 1
    p = student(release, "hw1", "--submission", str(sub))
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0].startswith(f"error: the submission has a syntax error at line {line}: ")
    assert out[1] == "    def broken(x:" and out[2] == "    " + " " * 10 + "^"
    assert p.stdout.count("syntax error") == 1
    rows = [r for r in out if r.startswith("│ ")]
    assert len(rows) == 17 and all(NOT_LOADED in r for r in rows)
    assert "more failing case" not in p.stdout
    data = json.loads(student(release, "hw1", "--submission", str(sub), "--json").stdout)
    assert data["load_kind"] == "syntax" and data["load_line"] == line
    assert {i["feedback"] for i in data["items"]} == {NOT_LOADED}


def test_an_exception_at_import_is_said_once_with_its_line(release, tmp_path):
    sub = _submission(tmp_path, "print('loading my work')\nSCALE = 1 / len([])")
    p = student(release, "hw1", "--submission", str(sub))
    out = p.stdout.splitlines()
    assert out[0].startswith("error: the submission fails to import at line ")
    assert "ZeroDivisionError: division by zero" in out[0]
    assert out[1] == "    SCALE = 1 / len([])" and out[2].endswith("^")
    assert p.stdout.count("ZeroDivisionError") == 1
    assert p.stdout.count("loading my work") == 1  # what it printed, once


def test_an_import_that_does_not_finish_is_stopped_and_says_where(release, tmp_path):
    from grader.api import grade

    sub = _submission(tmp_path, "print('training...')\nwhile True:\n    pass")
    r = grade(sub, "hw1", course=release, time_scale=0.2)  # stopped after 2 s, not 10
    assert r.load_kind == "timeout"
    assert r.load_source in ("while True:", "pass")
    assert "took over 2 s" in r.load_error
    assert r.output.strip() == "training..."
    assert {i.status for i in r.items} == {"timeout"}
    assert {i.feedback for i in r.items} == {NOT_LOADED}


PRINTING = '''
print("module-level hello")
def sigmoid(h):
    print("debug: h =", h)
    return 0.5 + 0 * np.asarray(h, dtype=float)
def bce_loss(y, p):
    print("y" * 5000)
    return 0.0
'''


def test_what_a_failing_function_printed_is_shown_with_its_case(release, tmp_path):
    sub = _submission(tmp_path, PRINTING)
    p = student(release, "hw1", "--submission", str(sub), "--item", "sigmoid", "--item", "loss")
    out = p.stdout
    assert out.count("module-level hello") == 1 and "printed while your file was imported" in out
    block = out[out.index("sigmoid / sigmoid on an array"):]
    block = block[:block.index("\n\n")] if "\n\n" in block else block
    assert "printed during this case:" in block and "debug: h = [-2." in block
    assert "output cut" in out  # the 5000 characters are capped, and say so
    data = json.loads(student(release, "hw1", "--submission", str(sub), "--json",
                              "--item", "sigmoid", "--item", "loss").stdout)
    assert data["output"].strip() == "module-level hello"
    cases = {c["name"]: c for i in data["items"] for c in i["cases"]}
    assert cases["sigmoid on an array"]["output"].startswith("debug: h = [-2.")
    loss = next(c for c in cases.values() if c["name"].startswith("bce_loss") and c["output"])
    assert len(loss["output"]) < 2200 and "[... output cut: 3001 more characters" in loss["output"]
    assert all(c["output"] == "" for c in cases.values() if c["passed"])


def test_a_hidden_case_never_keeps_what_was_printed(grade_hw1, tmp_path):
    r = grade_hw1(_submission(tmp_path, PRINTING), items=["sigmoid"])
    hidden = [c for c in r.items[0].cases if c.visibility == "hidden"]
    assert any(not c.passed for c in hidden) and all(c.output == "" for c in hidden)
    assert any(c.output for c in r.items[0].cases if c.visibility == "public")


def _reference_module(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("hw1", REFERENCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setitem(sys.modules, "hw1", mod)
    return mod


def test_every_public_case_snippet_reproduces_its_expected_value(monkeypatch):
    """Each snippet, run against the reference, returns the expected value: the inputs
    (floats, generators, data frames, the grader's callables) are rebuilt exactly."""
    import contextlib
    import io

    from grader.api import load_assignment
    from grader.judge.compare import compare
    from grader.reports.snippet import case_snippet

    _reference_module(monkeypatch)
    a = load_assignment("hw1", ROOT, public_only=True)
    checked = 0
    for pc in a.public:
        ns: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(case_snippet(a, pc, ROOT / "exercises" / "hw1.py"), "<snippet>",
                         "exec"), ns)
        if "expected" in ns:
            c = pc.case
            assert compare(ns["result"], ns["expected"], c.rtol, c.atol, c.scalar_ok) is None
            checked += 1
    assert checked >= 30


def test_show_case_prints_a_snippet_that_shows_the_slip(release, tmp_path):
    p = student(release, "hw1", "--show-case", "gradient_descent on a quadratic")
    assert p.returncode == 0, p.stderr
    assert "def grad(*args):" in p.stdout and "from hw1 import gradient_descent" in p.stdout
    (tmp_path / "hw1.py").write_text(
        REFERENCE.read_text(encoding="utf-8") + "\n\n_gd = gradient_descent\n"
        "def gradient_descent(grad, w0, lr, n_steps):\n"
        "    return _gd(grad, w0, lr, n_steps)[:-1]\n", encoding="utf-8")
    (tmp_path / "snippet.py").write_text(p.stdout, encoding="utf-8")
    run = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    returned, expected = run.stdout.split("returned:")[1].split("expected:")
    assert returned.count("[") == expected.count("[") - 1  # one row short, as the slip
    p = student(release, "hw1", "--show-case", "the lecture's graph")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "ITEM / NAME" in p.stderr
    p = student(release, "hw1", "--show-case", "graph_backward / the lecture's graph")
    assert p.returncode == 0 and "from hw1 import graph_backward" in p.stdout


def test_details_fit_80_columns_and_mark_what_differs(release, tmp_path):
    slip = ("_fm = forward_mode\n"
            "def forward_mode(X, y, W):\n"
            "    out = _fm(X, y, W)\n"
            "    out['partial'] = out['partial'] * np.array([1, 1, 1, -1, 1, 1.0])\n"
            "    out['dW'] = np.cumprod(out['partial'])\n"
            "    return out\n")
    p = student(release, "hw1", "--submission", str(_submission(tmp_path, slip)),
                "--item", "forward_mode")
    details = p.stdout[p.stdout.index("forward_mode / "):]
    table = details[details.index("marks the entries that differ"):].splitlines()[1:]
    table = table[:next(i for i, ln in enumerate(table) if ln.startswith("The lecture"))]
    assert max(map(len, table)) <= 80 and len(table) >= 21  # rows down the page
    marked = [ln.split()[0] for ln in table if ln.endswith("<<")]
    assert marked == ["ξ4", "ξ4", "ξ5", "L_A"]  # partial's ξ4, then dW from ξ4 on
    assert 'to reproduce: grade hw1 --show-case "forward_mode / forward_mode at X=3' in details


def test_watch_grades_again_on_each_save_changed_items_first(release, tmp_path):
    import queue
    import signal
    import threading
    import time

    sub = tmp_path / "hw1.py"
    sub.write_text(REFERENCE.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "hw1", "--watch",
                             "--submission", str(sub)], cwd=release, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout], daemon=True).start()

    def until(prefix: str) -> list[str]:
        seen, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1).rstrip("\n"))
            except queue.Empty:
                continue
            if seen[-1].startswith(prefix):
                return seen
        raise AssertionError(f"no {prefix!r} line in {seen}")

    try:
        first = until("Total:")
        total = first[-1].split()[1]  # the public share, full marks
        assert "was" not in first[-1] and total.split("/")[0] == total.split("/")[1]
        sub.write_text(sub.read_text(encoding="utf-8") + "\n\ndef dxi4_dxi3(xi3):\n"
                       "    return 1.0 / np.asarray(xi3, dtype=np.float64) ** 2\n",
                       encoding="utf-8")
        second = until("Total:")
        head = next(i for i, ln in enumerate(second) if ln.endswith(": changed elementary"))
        assert second[head + 1].split()[0] == "elementary" and "(was " in second[head + 1]
        rows = [ln for ln in second[head + 2:] if ln.startswith("  ")]
        assert len(rows) == 17 and second[-1].endswith(f"(was {total.split('/')[0]})")
        assert [r.split()[0] for r in rows if "(was " in r] == ["elementary"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_html_page_shows_the_paths_and_escapes_what_the_code_printed(release, tmp_path):
    import base64
    import re
    import struct

    slip = ("print(\"<script>document.title='pwned'</script>\")\n"
            "_gd = gradient_descent\n"
            "def gradient_descent(grad, w0, lr, n_steps):\n"
            "    p = _gd(grad, w0, lr, n_steps)\n"
            "    p[2:] += 0.01\n"
            "    print('<img src=x onerror=\"document.title=1\"> & more')\n"
            "    return p\n")
    sub, page = _submission(tmp_path, slip), tmp_path / "out.html"
    p = student(release, "hw1", "--submission", str(sub), "--item", "gradient_descent",
                "--item", "sgd", "--html", str(page), "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    gd = next(c for i in data["items"] for c in i["cases"] if c["name"].startswith(
        "gradient_descent on"))
    assert gd["plot"]["kind"] == "path" and abs(gd["plot"]["got"][2][0]
                                                 - gd["plot"]["expected"][2][0] - 0.01) < 1e-9
    dom = chromium_dom(page, tmp_path / "profile")
    assert re.search(r"<title>hw1: hw1\.py</title>", dom)  # no script of the submission ran
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=" in dom and "<img src=\"x\"" not in dom
    assert "<h2>Paths</h2>" in dom and "Failed public cases" in dom
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', dom)
    assert len(images) == 2  # the GD path and the SGD path
    for b64 in images:
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 300 and height >= 200
