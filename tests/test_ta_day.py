"""A TA's day replayed with the real commands on a messy class (``messy_class.py``):
`grade batch`, `grade export`, `grade report`, the report rendered in headless Chromium.

The class is graded once (module fixture); each test reads what a TA would look at and
checks that it agrees with the gradebook and with the other outputs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from messy_class import ERRORS, GRADED, IDENTICAL, TEST_STUDENT_ID, build

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The real command, run with this checkout's grader wherever ``cwd`` is."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("ta_day")
    paths = build(base)
    db = base / "gradebook.sqlite"
    batch = cli("batch", "hw1", str(paths["folder"]), "--roster", str(paths["roster"]),
                "--db", str(db), "--course", str(ROOT), "--workers", "2",
                "--time-scale", "0.2", "-q")
    assert batch.returncode == 0, batch.stderr
    out = {"base": base, "db": db, "batch": batch.stdout, **paths}
    export = cli("export", "hw1", "--db", str(db), "--csv", str(base / "grades.csv"),
                 "--feedback", str(base / "feedback"))
    assert export.returncode == 0, export.stderr
    report = cli("report", "hw1", "--db", str(db), "--out", str(base / "report.html"))
    assert report.returncode == 0, report.stderr
    out["export"] = export.stdout
    return out


def summary_counts(text: str) -> dict[str, int]:
    m = re.search(r"gradebook: (\d+) graded, (\d+) could not be graded \(score 0\), "
                  r"(\d+) identical to another", text)
    assert m, text
    return dict(zip(("graded", "errors", "identical"), map(int, m.groups())))


def cards(page: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="card" data-count="([^"]+)"><b>([^<]+)</b>', page))


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))[1:]   # after Points Possible


# =========================================================================== counts


def test_counts_agree_in_summary_report_and_exports(day):
    c = summary_counts(day["batch"])
    assert c == {"graded": len(GRADED), "errors": len(ERRORS), "identical": len(IDENTICAL)}
    assert "hw1: 23 submissions (folder layout)" in day["batch"]
    page = (day["base"] / "report.html").read_text(encoding="utf-8")
    got = cards(page)
    assert (got["submissions"], got["graded"], got["could not be graded"],
            got["identical to another"]) == ("23", str(c["graded"]), str(c["errors"]),
                                             str(c["identical"]))
    listed = re.search(r"could not be graded \((\d+)\):\n((?:  .*\n)+)", day["batch"])
    assert listed and int(listed.group(1)) == c["errors"]
    assert sorted(line.split(":")[0].strip() for line in listed.group(2).splitlines()) \
        == sorted(ERRORS)
    rows = csv_rows(day["base"] / "grades.csv")
    scores = {r["SIS Login ID"].split("@")[0]: float(r["hw1"]) for r in rows}
    assert all(scores[k] == 0 for k in ERRORS)
    assert sum(scores[k] > 0 for k in GRADED if k in scores) == len(GRADED) - 2  # dev, yas


def test_identical_files_under_three_names_are_found(day):
    assert "identical content (1):\n  sam, tom, uma\n" in day["batch"]
    page = (day["base"] / "report.html").read_text(encoding="utf-8")
    assert "<h2>Identical submissions</h2>" in page and "sam, tom, uma" in page
    assert "this run: graded" in day["batch"] and "taken from identical content 2" \
        in day["batch"]


def test_a_coding_line_is_honoured_and_an_empty_memory_error_explained(day):
    rows = {r["SIS Login ID"].split("@")[0]: r for r in csv_rows(day["base"] / "grades.csv")}
    assert rows["hal"]["hw1"] == "100"   # latin-1 with a PEP 263 coding line
    assert "gus.py is not UTF-8 text" in day["batch"]
    xan = (day["base"] / "feedback" / "xan.md").read_text(encoding="utf-8")
    assert "MemoryError (line" in xan and "(out of memory" in xan
    assert not re.search(r"MemoryError \(line \d+\):", xan)


# =========================================================================== Canvas CSV


def test_canvas_csv_matches_on_login_total_only(day):
    lines = list(csv.reader((day["base"] / "grades.csv").open(encoding="utf-8")))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw1"]
    assert lines[1][0].strip() == "Points Possible" and lines[1][-1] == "100"
    rows = csv_rows(day["base"] / "grades.csv")
    assert all(r["ID"] == "" for r in rows)   # folder names are no Canvas user ids
    assert all(re.fullmatch(r"\w+@uni\.example", r["SIS Login ID"]) for r in rows)
    assert all(r["Student"] for r in rows)
    by = {r["SIS Login ID"].split("@")[0]: r for r in rows}
    assert "yas" not in by and TEST_STUDENT_ID not in {r["ID"] for r in rows}
    assert not any("Test" in r["Student"] for r in rows)
    assert by["zoe"]["hw1"] == "0" and by["mo"]["hw1"] == by["lee"]["hw1"] == "100"
    assert "Canvas matches the rows on SIS Login ID (28 rows)" in day["export"]
    assert "SIS Login ID is the roster's email" in day["export"]
    assert "left out 1 not on the roster: yas" in day["export"]


def test_canvas_csv_items_on_request(day):
    out = day["base"] / "items.csv"
    p = cli("export", "hw1", "--db", str(day["db"]), "--csv", str(out), "--items",
            "--column", "HW 1 (123456)")
    assert p.returncode == 0, p.stderr
    head = next(csv.reader(out.open(encoding="utf-8")))
    assert head[-1] == "HW 1 (123456)" and head[5] == "hw1: sigmoid" and len(head) == 5 + 17 + 1


def test_canvas_download_and_canvas_roster(day, tmp_path):
    db = tmp_path / "c.sqlite"
    p = cli("batch", "hw1", str(day["canvas"]), "--roster", str(day["canvas_roster"]),
            "--db", str(db), "--workers", "1", "-q")
    assert p.returncode == 0, p.stderr
    assert "(canvas layout)" in p.stdout
    assert "no submission (1):\n  Poe, Ed (303)\n" in p.stdout and TEST_STUDENT_ID not in p.stdout
    out = tmp_path / "g.csv"
    p = cli("export", "hw1", "--db", str(db), "--csv", str(out))
    assert p.returncode == 0, p.stderr
    rows = {r["ID"]: r for r in csv_rows(out)}
    assert set(rows) == {"101", "202", "303"}
    assert rows["101"]["hw1"] == "100" and rows["101"]["SIS Login ID"] == "jdoe"
    assert "Canvas matches the rows on ID (3 rows)" in p.stdout


def test_layout_given_wrongly_is_an_error_naming_the_layout(day):
    p = cli("batch", "hw1", str(day["folder"]), "--layout", "canvas", "--db",
            str(day["base"] / "x.sqlite"))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 1 and "laid out as folder" in p.stderr, p.stderr
    assert "--layout folder" in p.stderr


# =========================================================================== feedback


def test_feedback_files_speak_to_students(day):
    fb = day["base"] / "feedback"
    files = {f.stem: f.read_text(encoding="utf-8") for f in fb.glob("*.md")}
    assert TEST_STUDENT_ID not in files
    for name, text in files.items():
        assert "re-run" not in text and "fix the group" not in text, name
    assert "This is not about your code" in files["pia"]
    assert "Graded:" not in files["wes"] and "Received: `wes.txt`" in files["wes"]
    assert "Graded: `ana.py`" in files["ana"]
    vic = files["vic"]
    hidden = next(ln for ln in vic.splitlines() if "hidden case" in ln)
    assert "failed" not in hidden and "of 3 hidden cases: 3 not run (after a time-out" in hidden


# =========================================================================== report


def test_report_reads_at_a_glance(day):
    page = (day["base"] / "report.html").read_text(encoding="utf-8")
    assert "<img" not in page and "<script" not in page and "http" not in page
    diag = page.split("<h2>Most common diagnoses</h2>", 1)[1].split("<h2>", 1)[0]
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', diag)]
    assert counts and counts == sorted(counts, reverse=True) and counts[0] == len(IDENTICAL)
    assert "not implemented" not in diag.split("</p>", 1)[1]
    assert "(#,)" not in diag and "[#]" not in diag
    assert "the 10 not graded count 0" in page


def _probe(page: Path, tmp: Path) -> dict:
    """The page's geometry as Chromium lays it out, read back through the DOM."""
    script = """<script>
const r = e => e.getBoundingClientRect();
const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const out = {charts: [], cards: {}, bins: 0, titleAlign: [], widths: []};
for (const fig of document.querySelectorAll('figure.chart')) {
  const legend = r(fig.querySelector('.legend'));
  const bars = [...fig.querySelectorAll('.bar')].map(r).filter(b => b.width > 0 && b.height > 0);
  out.charts.push({bars: bars.length, covered: bars.filter(b => hit(b, legend)).length});
}
for (const c of document.querySelectorAll('.card')) out.cards[c.dataset.count] = c.querySelector('b').textContent;
for (const b of document.querySelectorAll('.hist .bin')) out.bins += +b.dataset.count;
for (const t of document.querySelectorAll('table')) {
  const head = [...t.querySelectorAll('th')].map(h => h.textContent);
  const i = head.indexOf('title');
  if (i >= 0) for (const row of t.querySelectorAll('tbody tr'))
    out.titleAlign.push(getComputedStyle(row.children[i]).textAlign);
}
for (const bar of document.querySelectorAll('.items-chart .bar'))
  out.widths.push([+bar.dataset.value, 100 * r(bar).width / r(bar.parentElement).width]);
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script></body>"""
    probe = tmp / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script),
                     encoding="utf-8")
    p = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp / 'profile'}", "--window-size=1200,900",
                        "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, p.stderr[-2000:]
    import html

    return json.loads(html.unescape(m.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_in_chromium_legend_clear_counts_equal(day, tmp_path):
    got = _probe(day["base"] / "report.html", tmp_path)
    assert len(got["charts"]) == 2
    for chart in got["charts"]:
        assert chart["bars"] > 0 and chart["covered"] == 0, chart
    c = summary_counts(day["batch"])
    assert got["cards"]["graded"] == str(c["graded"])
    assert got["cards"]["could not be graded"] == str(c["errors"])
    assert got["cards"]["identical to another"] == str(c["identical"])
    assert got["bins"] == 23 == int(got["cards"]["submissions"])
    assert got["titleAlign"] and set(got["titleAlign"]) <= {"left", "start"}
    assert len(got["widths"]) == 2 * 17
    for value, width in got["widths"]:
        assert abs(value - width) < 1.0, (value, width)


# =========================================================================== course staff


def test_init_ci_outside_a_course_is_an_error(tmp_path):
    p = cli("init-ci", cwd=tmp_path)
    assert p.returncode == 2 and "not a course folder" in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1 and not (tmp_path / ".github").exists()


def test_init_ci_ships_the_grader_instead_of_the_package_index(student_course):
    import yaml

    course = student_course   # + solutions/: a course repository that is not the grader
    shutil.copytree(ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    p = cli("init-ci", cwd=course)
    assert p.returncode == 0, p.stderr
    wheels = list((course / ".github" / "grader").glob("course_grader-*-py3-none-any.whl"))
    assert len(wheels) == 1 and f"wrote {wheels[0]}" in p.stdout
    flow = (course / ".github" / "workflows" / "grade-verify.yml").read_text(encoding="utf-8")
    steps = yaml.safe_load(flow)["jobs"]["verify"]["steps"]
    install = next(s["run"] for s in steps if "pip install" in s.get("run", ""))
    assert ".github/grader/course_grader-*.whl" in install
    assert not re.search(r"pip install \S*course-grader", install)   # not published there
    assert cli("init-ci", "--force", cwd=course).returncode == 0
    assert len(list((course / ".github" / "grader").glob("*.whl"))) == 1
    p = cli("init-ci", "--student", "--dir", str(course / "student"), cwd=course)
    assert p.returncode == 0, p.stderr
    steps = yaml.safe_load((course / "student" / "grade.yml").read_text(encoding="utf-8"))
    install = next(s["run"] for s in steps["jobs"][next(iter(steps["jobs"]))]["steps"]
                   if "pip install" in s.get("run", ""))
    assert not re.search(r"pip install \S*course-grader", install)


def test_release_ships_the_sheet_and_verify_there_speaks_to_staff(tmp_path):
    out = tmp_path / "rel"
    p = cli("release", "hw1", "--out", str(out))
    assert p.returncode == 0, p.stderr
    sheet = (out / "exercises" / "hw1.md").read_text(encoding="utf-8")
    assert "../shared" not in sheet and "| `perceptron(X, y, n_epochs)` |" in sheet
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "(exercises/hw1.md)" in readme and "python3 -m venv .venv" in readme
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")
    p = cli("verify", cwd=out)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "a release of the course (no solutions/)" in p.stderr
    assert "course repository" in p.stderr and "holds your homework" not in p.stderr


def test_grade_assignment_help_and_title_line(tmp_path):
    p = cli("hw1", "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: grade hw1 [OPTIONS]\n"), p.stdout
    p = cli("hw1", "--no-such-option")
    assert p.returncode == 2 and "grade hw1 --help" in p.stderr and "grade run" not in p.stderr
    p = cli("hw1", "--submission", str(ROOT / "exercises" / "hw1.py"), "--item", "sigmoid",
            "--brief")
    assert p.stdout.splitlines()[0] == "hw1: hw1.py"
    assert not [ln for ln in p.stdout.splitlines() if ln != ln.rstrip()]


# =========================================================================== the runs


def _slow_class(folder: Path, n: int) -> None:
    stub = (ROOT / "exercises" / "hw1.py").read_text(encoding="utf-8")
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"s{i}.py").write_text(f"# s{i}\nimport time\ntime.sleep(0.3)\n{stub}",
                                         encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a pseudo-terminal")
def test_progress_bar_shows_no_rate_before_it_means_something(tmp_path):
    import pty

    _slow_class(tmp_path / "subs", 4)
    primary, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", "TERM": "xterm"}
    p = subprocess.Popen([sys.executable, "-m", "grader.cli", "batch", "hw1",
                          str(tmp_path / "subs"), "--db", str(tmp_path / "g.sqlite"),
                          "--workers", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=secondary, text=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(120)
    os.close(primary)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    frames = [f for f in re.split(r"[\r\n]+", screen) if "grading" in f]
    assert p.returncode == 0 and frames, screen[-2000:]
    assert "0/4" in frames[0] and "– /s" in frames[0] and "ETA –" in frames[0], frames[0]
    rates = [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)/s", screen)]
    assert all(r < 50 for r in rates), rates   # 4 submissions of 0.3 s on one worker


def test_rate_meter_waits_for_two_graded_and_two_seconds():
    from grader.cli.progress import RateMeter

    now = [0.0]
    meter = RateMeter(clock=lambda: now[0])
    for _ in range(30):               # unchanged ones go by at once: no rate from them
        meter.tick("unchanged")
    now[0] = 1e-6
    meter.tick("graded")
    assert meter.text(31, 40) == ("– /s", "ETA –")
    now[0] = 1.0
    meter.tick("graded")
    assert meter.text(32, 40) == ("– /s", "ETA –")   # under two seconds
    now[0] = 4.0
    rate, eta = meter.text(32, 40)
    assert rate == "0.5/s" and eta == "ETA 0:16"
