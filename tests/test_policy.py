"""The course's rules through the commands: `grade batch` records submission times and
computes finals, `grade late` lists late work and recomputes after a policy change (no
grading again), `grade export` uses the finals, `grade course` gives the weighted grade.

One class on the example course (the repository's course.toml, with a roster, slip-day
allowances and an extension added) is graded once as a Gradescope export: two distinct
files, so grading is quick; everything else is recomputed from the gradebook.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REFERENCE, ROOT

from grader.cli.main import main

REF = REFERENCE.read_text(encoding="utf-8")
SIGN_SLIP = "def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n"

# key: (members, submitted at (Gradescope's created_at; None: none), content)
CLASS = {
    "s01": (["ana"], "2026-11-08 23:00:00.000000000 -05:00", "ref"),       # on time
    "s02": (["ben"], "2026-11-09 00:10:00.000000000 -05:00", "ref"),       # grace
    "s03": (["cat"], "2026-11-10 03:00:00.000000000 -05:00", "ref"),       # 1 d 3 h, slip days
    "s04": (["dan"], "2026-11-10 00:00:00.000000000 -05:00", "ref"),       # 1 day, none left
    "s05": (["eve"], "2026-11-12 00:00:00.000000000 -05:00", "ref"),       # 3 days
    "s06": (["fay"], "2026-11-14 06:00:00.000000000 -05:00", "ref"),       # after late-until
    "s07": (["gus"], None, "ref"),                                         # --times, extension
    "s08": (["hal", "ivy", "jon"], "2026-11-11 01:00:00.000000000 -05:00", "ref"),  # group
    "s09": (["kim"], "2026-11-09 04:00:00.000000000 -05:00", "slip"),      # raw < 100, late
}
ROSTER = ["ana", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lou",
          "mia"]
# a submission whose own folder holds its metadata, as Gradescope's autograder gets it
OWN_METADATA = {"created_at": "2026-11-08T12:00:00.123456-05:00",
                "users": [{"name": "Mia Student", "sid": "mia", "email": "mia@uni.example"}]}
EXTRA = """
[slip_days.students]
dan = 0
eve = 0
ivy = 1
jon = 0
kim = 0

[[extensions]]
student = "gus"
assignment = "hw1"
days = 2
reason = "medical"
"""


def invoke(*args: str, cwd: Path | None = None) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def course_copy(dst: Path, extra: str = EXTRA, edit: tuple[str, str] | None = None) -> Path:
    for d in ("exercises", "solutions", "data"):
        shutil.copytree(ROOT / d, dst / d)
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    text = text.replace('# roster = "roster.csv"', 'roster = "roster.csv"')
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    (dst / "course.toml").write_text(text + extra, encoding="utf-8")
    (dst / "roster.csv").write_text("id,name,email,section\n" + "".join(
        f"{n},{n.title()} Student,{n}@uni.example,S1\n" for n in ROSTER), encoding="utf-8")
    return dst


def gradescope_export(dst: Path) -> Path:
    dst.mkdir()
    meta = []
    for key, (members, at, content) in CLASS.items():
        (dst / key).mkdir()
        body = REF if content == "ref" else f"{REF}\n\n{SIGN_SLIP}\n"
        (dst / key / "hw1.py").write_text(body, encoding="utf-8")
        meta.append(f"{key}:\n  :submitters:\n" + "".join(
            f"  - :name: {m.title()} Student\n    :sid: {m}\n    :email: {m}@uni.example\n"
            for m in members) + (f"  :created_at: {at}\n" if at else ""))
    (dst / "submission_metadata.yml").write_text("".join(meta), encoding="utf-8")
    (dst / "s10").mkdir()
    (dst / "s10" / "hw1.py").write_text(REF, encoding="utf-8")
    (dst / "s10" / "submission_metadata.json").write_text(json.dumps(OWN_METADATA),
                                                         encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("policy")
    course = course_copy(base / "course")
    subs = gradescope_export(base / "export")
    (base / "times.csv").write_text("id,submitted_at\ngus,2026-11-10T20:00:00-05:00\n",
                                    encoding="utf-8")
    db = base / "gradebook.sqlite"
    r = invoke("batch", "hw1", str(subs), "--roster", str(course / "roster.csv"),
               "--db", str(db), "--course", str(course), "--times", str(base / "times.csv"),
               "--workers", "2", "--time-scale", "0.3", "-q")
    assert r.exit_code == 0, r.output
    return {"base": base, "course": course, "subs": subs, "db": db, "output": r.output}


def finals(db: Path) -> dict[str, dict[str, object]]:
    con = sqlite3.connect(db)
    try:
        return {s: json.loads(d) for s, d in con.execute(
            "SELECT student, detail FROM finals WHERE assignment = 'hw1'")}
    finally:
        con.close()


def raw_slip(klass: dict[str, Path]) -> float:
    con = sqlite3.connect(klass["db"])
    try:
        return float(con.execute("SELECT score FROM submissions WHERE submission = 's09'")
                     .fetchone()[0])
    finally:
        con.close()


# =========================================================================== finals


def test_every_final_score(klass):
    f = finals(klass["db"])
    got = {s: (f[s]["final"], f[s]["status"], f[s]["slip_days"], f[s]["slip_left"])
           for s in f}
    assert got["ana"] == (100, "on time", 0, 3)
    assert got["ben"] == (100, "grace", 0, 3)
    assert got["cat"] == (100, "late", 2, 1)
    assert got["dan"] == (90, "late", 0, 0)
    assert got["eve"] == (70, "late", 0, 0)
    assert got["fay"] == (0, "after late-until", 0, 3)
    assert got["gus"] == (100, "on time", 0, 3)           # the extension: due Nov 11
    assert got["hal"] == (100, "late", 3, 0)              # 2 d 1 h: 3 days, 3 slip days
    assert got["ivy"] == (80, "late", 1, 0)               # 1 slip day: 2 days charged
    assert got["jon"] == (70, "late", 0, 0)
    raw = raw_slip(klass)
    assert 0 < raw < 100
    assert f["kim"]["final"] == pytest.approx(raw - 10, abs=1e-6)  # 4 h late: one day
    assert f["kim"]["raw"] == pytest.approx(raw, abs=1e-6)
    assert "lou" not in f                                  # no submission
    assert (f["mia"]["status"], f["mia"]["submitted_at"]) == (
        "on time", "2026-11-08T12:00:00.123456-05:00")
    assert f["cat"]["late_seconds"] == 27 * 3600
    assert ("course.toml: 10 of 10 submissions have a time; 12 students: 8 late, 1 within the "
            "grace period, 0 without a time; 0 finals changed") in klass["output"]


def test_feedback_says_why(klass):
    out = klass["base"] / "feedback"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--feedback", str(out),
               "--course", str(klass["course"]))
    assert r.exit_code == 0, r.output
    text = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.md")}
    assert "submitted 1 day 3 h late; 2 slip days used, 1 left; no penalty" in text["cat"]
    assert "**Score: 90 / 100**" in text["dan"]
    assert "Raw score 100; submitted 1 day late; no slip days left; 10% penalty for 1 day " \
           "late (-10 points)." in text["dan"]
    assert "3 days late" in text["eve"] and "30% penalty for 3 days late" in text["eve"]
    assert "after the last accepted time (2026-11-14 00:00 EST): scored 0" in text["fay"]
    assert "within the grace period; no penalty" in text["ben"]
    assert "extension to 2026-11-11 00:00 EST (gus: medical)" in text["gus"]
    assert "3 slip days used, 0 left; no penalty" in text["hal"]
    assert "1 slip day used, 0 left" in text["ivy"]
    assert "the penalty applies to you" in text["ivy"] and "20% penalty" in text["ivy"]
    assert "no slip days left" in text["jon"] and "the penalty applies to you" in text["jon"]


def test_exports_use_the_final_score(klass):
    path = klass["base"] / "grades.csv"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--csv", str(path), "--total-only",
               "--course", str(klass["course"]))
    assert r.exit_code == 0, r.output
    # Canvas matches these rows by SIS Login ID, the roster's email
    rows = {row[3].split("@")[0]: row[-1] for row in csv.reader(path.open(encoding="utf-8"))}
    assert rows["cat"] == "100" and rows["dan"] == "90" and rows["eve"] == "70"
    assert rows["fay"] == "0" and rows["ivy"] == "80" and rows["jon"] == "70"
    assert rows["lou"] == "0"
    gs = klass["base"] / "gs"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--gradescope", str(gs),
               "--course", str(klass["course"]))
    assert r.exit_code == 0, r.output
    dan = json.loads((gs / "s04" / "results.json").read_text(encoding="utf-8"))
    assert dan["score"] == 90 and "10% penalty" in dan["output"]
    group = json.loads((gs / "s08" / "results.json").read_text(encoding="utf-8"))
    assert group["score"] == 100                       # one score per submission: the raw
    assert "Final scores differ by member: hal 100" in group["output"]
    assert "ivy 80" in group["output"] and "jon 70" in group["output"]


def test_grade_late_lists_the_late(klass):
    r = invoke("late", "hw1", "--db", str(klass["db"]), "--course", str(klass["course"]))
    assert r.exit_code == 0, r.output
    assert "0 changed" in r.output
    lines = {ln.split()[0]: ln.split() for ln in r.output.splitlines()[2:] if ln.strip()}
    assert "ana" not in lines and "gus" not in lines
    assert lines["cat"][:2] == ["cat", "late"] and "1 day 3 h" in r.output
    # student status late-by extension slip-used slip-left penalty raw final
    assert lines["dan"][-5:] == ["0", "0", "10%", "100", "90"]
    assert re.search(r"hal\s+late\s+2 days 1 h\s+3\s+0\s+100\s+100", r.output)
    assert re.search(r"ivy\s+late\s+2 days 1 h\s+1\s+0\s+20%\s+100\s+80", r.output)
    assert re.search(r"fay\s+after late-until\s+5 days 6 h\s+0\s+3\s+100%\s+100\s+0",
                     r.output)


def test_policy_change_recomputes_without_grading(klass, tmp_path):
    db = tmp_path / "gradebook.sqlite"
    shutil.copy(klass["db"], db)
    con = sqlite3.connect(db)
    graded = con.execute("SELECT submission, graded_at, run_id FROM submissions").fetchall()
    con.close()
    toml = klass["course"] / "course.toml"
    before = toml.read_text(encoding="utf-8")
    try:
        toml.write_text(before.replace("deduction = 10 ", "deduction = 20 ") +
                        '\n[[extensions]]\nstudent = "dan"\nassignment = "hw1"\n'
                        'due = "2026-11-10 12:00 America/New_York"\nreason = "flu"\n',
                        encoding="utf-8")
        r = invoke("late", "hw1", "--db", str(db), "--course", str(klass["course"]))
    finally:
        toml.write_text(before, encoding="utf-8")
    assert r.exit_code == 0, r.output
    f = finals(db)
    assert f["dan"]["final"] == 100 and f["dan"]["status"] == "on time"
    assert f["eve"]["final"] == 50                      # 3 days at 20%: the 50% floor
    assert f["ivy"]["final"] == 60 and f["jon"]["final"] == 50
    assert "5 changed" in r.output
    assert "hw1 dan: final 90 -> 100 (extension to 2026-11-10 12:00 EST (dan: flu)" in r.output
    assert "hw1 eve: final 70 -> 50" in r.output
    con = sqlite3.connect(db)
    assert con.execute("SELECT submission, graded_at, run_id FROM submissions").fetchall() \
        == graded
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    con.close()


# =========================================================================== grade course

IMPORTS = {
    "reading.csv": "id,Reading 1,Reading 2,Reading 3,Reading 4\n"
                   "ana,1,1,1,0\ndan,1,0,,1\nivy,1,EX,1,0\nzed,1,1,1,1\n",
    "ed.csv": "id,Posts\nana,12\ndan,5\nivy,0\n",
    "attendance.csv": "id,Lecture 1,Lecture 2,Lecture 3,Lab 1,Lab 2\n"
                      "ana,1,1,1,1,1\ndan,1,0,0,1,0\nivy,0,0,0,1,1\n",
    "project.csv": "id,Final project\nana,90\ndan,70\nivy,80\n",
}


def by_hand(reading: float, ed: float, lectures: float, labs: float, homework: float,
            project: float) -> float:
    """The example course's weights, written out: percentages in, percent out."""
    participation = (5 * ed + 10 * lectures + 10 * labs) / 25
    return (10 * reading + 25 * participation + 35 * homework + 30 * project) / 100


@pytest.fixture(scope="module")
def graded_course(klass):
    imports = klass["course"] / "imports"
    imports.mkdir(exist_ok=True)
    for name, text in IMPORTS.items():
        (imports / name).write_text(text, encoding="utf-8")
    toml = klass["course"] / "course.toml"
    if "[[excused]]\nstudent = \"ivy\"" not in toml.read_text(encoding="utf-8"):
        with toml.open("a", encoding="utf-8") as f:
            f.write('\n[[excused]]\nstudent = "ivy"\nentry = "hw2"\n')
    return klass


def test_course_grades_by_hand(graded_course, tmp_path):
    k = graded_course
    out_csv, out_html = tmp_path / "course.csv", tmp_path / "course.html"
    r = invoke("course", "--db", str(k["db"]), "--course", str(k["course"]),
               "--csv", str(out_csv), "--html", str(out_html))
    assert r.exit_code == 0, r.output
    want = {
        "ana": by_hand(100, 100, 100, 100, (100 + 0) / 2, 90),      # hw2 missing: 0
        "dan": by_hand(200 / 3, 50, 50, 50, (90 + 0) / 2, 70),       # a 0 dropped
        "ivy": by_hand(100, 0, 0, 100, 80, 80),                      # hw2 excused
        "lou": 0.0,
    }
    rows = {row[1]: row for row in csv.reader(out_csv.open(encoding="utf-8"))}
    assert rows["ID"][-2:] == ["Course grade", "Course grade letter"]
    for student, pct in want.items():
        assert float(rows[student][-2]) == pytest.approx(pct, abs=0.006), student
    assert want["ana"] == pytest.approx(79.5)
    assert [rows[s][-1] for s in want] == ["C+", "F", "C-", "F"]
    assert "not on the roster in import reading (reading.csv) (1): zed" in r.output
    assert re.search(r"on the roster with no entry in import project \(project.csv\) "
                     r"\(\d+\): .*lou", r.output)
    page = out_html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 8       # the grade, 4 components, 3 parts
    assert "participation / lectures: mean" in page
    assert "zed" in page


def test_course_breakdown_is_traceable(graded_course):
    k = graded_course
    r = invoke("course", "--db", str(k["db"]), "--course", str(k["course"]),
               "--student", "dan")
    assert r.exit_code == 0, r.output
    text = r.output
    assert f"dan: {by_hand(200 / 3, 50, 50, 50, 45, 70):.2f}% F" in text
    assert "reading (weight 10): 66.67% -> 6.67 points" in text
    assert "Reading 2: 0 / 1 (dropped)" in text and "Reading 3: - / 1 (missing: 0)" in text
    assert "hw1: 90 / 100" in text and "hw2: - (not graded: 0)" in text
    assert "ed (weight 5): 50.00%" in text
    r = invoke("course", "--db", str(k["db"]), "--course", str(k["course"]),
               "--student", "nobody")
    assert r.exit_code == 2 and "'nobody' is not on the roster" in r.output


# =========================================================================== times


DST_EDIT = ("release = 2026-11-02T00:00:00-05:00\ndue = 2026-11-09T00:00:00-05:00\n"
            "late_until = 2026-11-14T00:00:00-05:00",
            "release = 2026-10-24T00:00:00-04:00\ndue = 2026-10-31T00:00:00-04:00\n"
            "late_until = 2026-11-05T00:00:00-05:00")


def test_dst_crossing_is_late_by_the_calendar(tmp_path):
    """Due Oct 31 00:00 EDT; US clocks went back on Nov 1.  Nov 2 12:00 EST is 2 days 12 h
    late (not 2 days 13 h); Nov 2 23:30 EST is charged 3 days (the shifted hour would make
    it 4).  The times come from nbgrader's timestamp.txt."""
    course = course_copy(tmp_path / "course", "\n[slip_days.students]\nsam = 0\ntom = 0\n",
                         edit=DST_EDIT)
    subs = tmp_path / "submitted"
    for who, at in (("sam", "2026-11-02 12:00:00.000000 America/New_York"),
                    ("tom", "2026-11-03 04:30:00 UTC")):
        (subs / who).mkdir(parents=True)
        (subs / who / "hw1.py").write_text(REF, encoding="utf-8")
        (subs / who / "timestamp.txt").write_text(at + "\n", encoding="utf-8")
    db = tmp_path / "gb.sqlite"
    r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(course),
               "--workers", "1", "-q")
    assert r.exit_code == 0, r.output
    f = finals(db)
    assert f["sam"]["late_seconds"] == 2 * 86400 + 12 * 3600
    assert f["tom"]["late_seconds"] == 2 * 86400 + 23.5 * 3600
    assert (f["sam"]["charged"], f["sam"]["final"]) == (3, 70)
    assert (f["tom"]["charged"], f["tom"]["final"]) == (3, 70)
    r = invoke("late", "hw1", "--db", str(db), "--course", str(course))
    assert "2 days 12 h" in r.output and "2 days 23 h 30 min" in r.output


def test_canvas_late_marker_needs_a_time(tmp_path):
    course = course_copy(tmp_path / "course")
    subs = tmp_path / "canvas"
    subs.mkdir()
    (subs / "smithjane_LATE_4242_777_hw1.py").write_text(REF, encoding="utf-8")
    db = tmp_path / "gb.sqlite"
    r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(course),
               "--workers", "1", "-q")
    assert r.exit_code == 0, r.output
    assert "1 marked late by the LMS: give their times with --times" in r.output
    assert finals(db)["4242"]["status"] == "needs a time"
    r = invoke("late", "hw1", "--db", str(db), "--course", str(course))
    assert "without a time (1), counted on time: 4242 (marked late by the LMS)" in r.output
    times = tmp_path / "t.csv"
    times.write_text("id,submitted_at\n4242,2026-11-09T06:00:00Z\n", encoding="utf-8")
    r = invoke("late", "hw1", "--db", str(db), "--course", str(course), "--times", str(times))
    assert r.exit_code == 0, r.output
    assert finals(db)["4242"]["status"] == "late" and "1 changed" in r.output
    assert "hw1 4242: final 100 -> 100 (submitted 1 h late; 1 slip day used, 2 left" in r.output
    r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(course),
               "--workers", "1", "-q")                  # again, without --times
    assert r.exit_code == 0 and "graded 0, unchanged 1" in r.output
    assert finals(db)["4242"]["status"] == "late"        # the time given is kept
    times.write_text("id,submitted_at\n4242,2026-11-09 06:00\n", encoding="utf-8")
    r = invoke("late", "hw1", "--db", str(db), "--course", str(course), "--times", str(times))
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {times}, line 2: '2026-11-09 06:00' has no time zone: add its UTC offset "
        "(2026-11-09T00:05:00-05:00) or Z"]


# =========================================================================== course.toml


BAD = [
    (("[course]", "[course"), "not valid TOML", True),
    (("weight = 35", "weight = 30"), "grade.components: the weights add up to 95, not 100", None),
    (("[grade.components.participation.components.labs]\nweight = 10",
      "[grade.components.participation.components.labs]\nweight = 5"),
     "grade.components.participation.components: its parts' weights add up to 20, not its "
     "weight 25", None),
    (("due = 2026-11-09T00:00:00-05:00", "due = 2026-11-09T00:00:00"),
     "assignments.hw1.due: 2026-11-09 00:00:00 is a naive time", True),
    (("due = 2026-11-09T00:00:00-05:00", "due = 2026-11-09T00:00:00-04:00"),
     "assignments.hw1.due: 2026-11-09T00:00:00-04:00 has offset -04:00 but America/New_York "
     "is at -05:00", True),
    (('timezone = "America/New_York"', 'timezone = "America/Gotham"'),
     "course.timezone: unknown time zone 'America/Gotham'", True),
    (('per = "day"', 'per = "week"'), "late.per: 'week': use \"day\" or \"hour\"", True),
    (("floor = 50", "flor = 50"), "late.flor: unknown key: use one of grace, per, deduction, "
     "floor, after_late_until", True),
    (("deduction = 10 ", "deduction = 110 "), "late.deduction: must be a number between 0 "
     "and 100", True),
]


@pytest.mark.parametrize("edit,message,line", BAD)
def test_a_bad_course_toml_is_one_line_with_file_key_and_line(tmp_path, edit, message, line):
    (tmp_path / "exercises").mkdir()
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    (tmp_path / "course.toml").write_text(text.replace(*edit, 1), encoding="utf-8")
    r = invoke("course", "--course", str(tmp_path))
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'course.toml'}")
    assert message in lines[0]
    if line:   # the line of the edit
        assert f"line {text[:text.index(edit[0])].count(chr(10)) + 1}" in lines[0]


def test_an_extension_for_an_unknown_student(tmp_path):
    course = course_copy(tmp_path, '\n[[extensions]]\nstudent = "zed"\nassignment = "hw1"\n'
                                   'days = 1\n')
    r = invoke("course", "--course", str(course))
    assert r.exit_code == 2
    n = (course / "course.toml").read_text(encoding="utf-8").splitlines().index(
        'student = "zed"') + 1
    assert r.output == (f"error: {course / 'course.toml'}, line {n}, extensions[0].student: "
                        "'zed' is not on the roster (roster.csv): fix the id\n")


def test_an_old_gradebook_is_migrated(klass, tmp_path):
    db = tmp_path / "old.sqlite"
    shutil.copy(klass["db"], db)
    con = sqlite3.connect(db)
    con.executescript("DROP TABLE finals; DROP TABLE times; "
                      "UPDATE meta SET value = '1' WHERE key = 'schema';")
    con.close()
    out = tmp_path / "g.csv"
    r = invoke("export", "hw1", "--db", str(db), "--csv", str(out), "--total-only",
               "--course", str(klass["course"]))
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "2"
    con.close()
    rows = {row[3].split("@")[0]: row[-1] for row in csv.reader(out.open(encoding="utf-8"))}
    assert rows["dan"] == "100"            # no times kept in a schema-1 file: raw
    r = invoke("late", "hw1", "--db", str(db), "--course", str(klass["course"]),
               "--submissions", str(klass["subs"]))
    assert r.exit_code == 0 and finals(db)["dan"]["final"] == 90


# =========================================================================== students


def test_a_students_copy_shows_the_deadline(tmp_path):
    from datetime import datetime, timezone

    from grader.policy.config import load
    from grader.policy.workflow import deadline_line

    rel = tmp_path / "rel"
    r = invoke("release", "hw1", "--out", str(rel))
    assert r.exit_code == 0, r.output
    rules = (rel / "course.toml").read_text(encoding="utf-8")
    assert "extensions" not in rules and "imports" not in rules
    course = load(rel / "course.toml")
    at = datetime(2026, 11, 8, 20, 30, tzinfo=timezone.utc)          # 15:30 EST
    assert deadline_line(course, "hw1", at) == "hw1 is due 2026-11-09 00:00 EST: 8 h 30 min left"
    at = datetime(2026, 11, 10, 5, 0, tzinfo=timezone.utc)
    assert deadline_line(course, "hw1", at) == ("hw1 was due 2026-11-09 00:00 EST (1 day ago); "
                                                "late work accepted until 2026-11-14 00:00 EST")
    r = invoke("hw1", "--submission", str(REFERENCE), "--course", str(rel), "--brief")
    assert r.exit_code == 0
    assert re.search(r"^hw1 (is|was) due 2026-11-09 00:00 EST", r.output, re.M)


# =========================================================================== policy variants


def variant_course(klass, tmp_path, *edits, extra=""):
    """The class's gradebook (a copy) under another course.toml: recomputed, not graded."""
    course = tmp_path / "variant"
    (course / "exercises").mkdir(parents=True)
    text = (klass["course"] / "course.toml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (course / "course.toml").write_text(text + extra, encoding="utf-8")
    shutil.copy(klass["course"] / "roster.csv", course / "roster.csv")
    db = tmp_path / "gb.sqlite"
    shutil.copy(klass["db"], db)
    r = invoke("late", "hw1", "--db", str(db), "--course", str(course), "--all")
    assert r.exit_code == 0, r.output
    return finals(db), r.output


def test_a_deduction_per_hour(klass, tmp_path):
    f, _ = variant_course(klass, tmp_path, ('per = "day"', 'per = "hour"'),
                          ("deduction = 10 ", "deduction = 1 "))
    assert f["dan"]["final"] == 76 and f["dan"]["charged"] == 24       # 24 h, no slip days
    assert f["kim"]["final"] == pytest.approx(raw_slip(klass) - 4, abs=1e-6)  # 4 h
    assert f["eve"]["final"] == 50                                       # 72 %: the floor
    assert f["ivy"]["final"] == 75 and f["ivy"]["charged"] == 25        # 49 h less 1 day
    assert f["hal"]["final"] == 100 and f["cat"]["final"] == 100


def test_slip_days_only_when_they_cover_it(klass, tmp_path):
    f, out = variant_course(klass, tmp_path, ("before_penalty = true", "before_penalty = false"))
    assert (f["ivy"]["slip_days"], f["ivy"]["slip_left"], f["ivy"]["final"]) == (0, 1, 70)
    assert (f["cat"]["slip_days"], f["cat"]["final"]) == (2, 100)
    assert (f["hal"]["slip_days"], f["hal"]["final"]) == (3, 100)
    from grader.policy.lateness import Final
    from grader.policy.words import explain

    why = explain(Final(**f["ivy"]))
    assert "1 slip day left, too few to cover it: none used; others in your group used 3 " \
           "slip days more than you could, so the penalty applies to you; 30% penalty" in why


def test_refused_after_late_until(klass, tmp_path):
    f, _ = variant_course(klass, tmp_path, ('after_late_until = "zero"',
                                            'after_late_until = "refuse"'))
    from grader.policy.lateness import Final
    from grader.policy.words import explain

    assert f["fay"]["final"] == 0
    assert explain(Final(**f["fay"])) == ("submitted 5 days 6 h late, after the last accepted "
                                          "time (2026-11-14 00:00 EST): not accepted")


def test_a_members_extension_applies_to_the_group(klass, tmp_path):
    f, out = variant_course(klass, tmp_path, extra='\n[[extensions]]\nstudent = "jon"\n'
                            'assignment = "hw1"\ndays = 3\nreason = "surgery"\n')
    for m in ("hal", "ivy", "jon"):
        assert (f[m]["status"], f[m]["final"], f[m]["slip_days"]) == ("on time", 100, 0), m
        assert f[m]["extension"] == "jon: surgery"
    assert "hw1 ivy: final 80 -> 100 (extension to 2026-11-12 00:00 EST (jon: surgery); " \
           "submitted on time" in out


# =========================================================================== the HTML page

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


def dom(page: Path, tmp_path: Path) -> str:
    """The page's DOM after loading in headless Chromium, with a probe that records each
    image's decoded width in ``body[data-imgs]``."""
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        pytest.skip("no Chromium here (.ci/run installs it)")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8") + (
        "<script>addEventListener('load', () => { document.body.dataset.imgs = "
        "[...document.images].map(i => i.naturalWidth).join(','); });</script>"),
        encoding="utf-8")
    import subprocess

    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
                        "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_course_page_in_a_browser(graded_course, tmp_path):
    k = graded_course
    hostile = tmp_path / "reading.csv"
    quoted = '"' + HOSTILE.replace('"', '""') + '"'          # one CSV cell
    hostile.write_text(IMPORTS["reading.csv"].replace("zed", quoted), encoding="utf-8")
    page = tmp_path / "course.html"
    r = invoke("course", "--db", str(k["db"]), "--course", str(k["course"]), "--html",
               str(page), "--import", f"reading={hostile}")
    assert r.exit_code == 0, r.output
    assert HOSTILE in r.output                       # listed: not on the roster
    text = dom(page, tmp_path)
    widths = re.search(r'data-imgs="([^"]*)"', text)
    assert widths, text[-500:]
    assert [int(w) > 100 for w in widths.group(1).split(",")] == [True] * 8
    assert "<title>Course grades</title>" in text     # the hostile id ran nothing
    assert "&lt;img src=x" in text and "src=\"x\"" not in text


def test_slip_days_are_spent_over_the_term(klass, tmp_path):
    """hw2 (its rows copied from hw1's, as if graded) sees the slip days hw1 used."""
    db = tmp_path / "gb.sqlite"
    shutil.copy(klass["db"], db)
    con = sqlite3.connect(db)
    for table in ("submissions", "results", "members", "roster"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        rest = ", ".join(cols[1:])
        con.execute(f"INSERT INTO {table} SELECT 'hw2', {rest} FROM {table} "
                    "WHERE assignment = 'hw1'")
    con.commit()
    con.close()
    times = tmp_path / "hw2.csv"
    times.write_text("id,submitted_at\ncat,2026-11-17T03:00:00-05:00\n"
                     "ana,2026-11-17T03:00:00-05:00\n", encoding="utf-8")
    r = invoke("late", "hw2", "--db", str(db), "--course", str(klass["course"]),
               "--times", str(times))
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(db)
    got = {s: json.loads(d) for s, d in con.execute(
        "SELECT student, detail FROM finals WHERE assignment = 'hw2'")}
    con.close()
    assert (got["cat"]["slip_days"], got["cat"]["slip_left"], got["cat"]["final"]) == (1, 0, 90)
    assert (got["ana"]["slip_days"], got["ana"]["slip_left"], got["ana"]["final"]) == (2, 1, 100)
    assert finals(db)["cat"]["slip_days"] == 2            # hw1 as before


def test_json_outputs(graded_course):
    k = graded_course
    r = invoke("late", "hw1", "--db", str(k["db"]), "--course", str(k["course"]), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    got = {f["student"]: f for f in data["finals"]}
    assert got["ivy"]["final"] == 80 and got["ivy"]["short"] == 2 and data["changed"] == []
    r = invoke("course", "--db", str(k["db"]), "--course", str(k["course"]), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    ana = next(g for g in data["students"] if g["student"] == "ana")
    assert ana["percent"] == pytest.approx(79.5) and ana["letter"] == "C+"
    assert [p["name"] for p in ana["parts"]] == ["reading", "participation", "homework",
                                                 "final_project"]
    assert data["not_on_roster"] == {"import reading (reading.csv)": ["zed"]}


def test_bad_rules_or_times_stop_a_batch_before_grading(tmp_path):
    course = course_copy(tmp_path / "course", edit=("weight = 35", "weight = 36"))
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(REF, encoding="utf-8")
    db = tmp_path / "gb.sqlite"
    r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(course), "-q")
    assert r.exit_code == 2 and "the weights add up to 101, not 100" in r.output
    assert not db.exists()
    good = course_copy(tmp_path / "good")
    times = tmp_path / "t.csv"
    times.write_text("id,when\nana,2026-11-09T00:00:00Z\n", encoding="utf-8")
    r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(good), "-q",
               "--times", str(times))
    assert r.exit_code == 2 and "must name an id column and a submitted_at column" in r.output
    assert not db.exists()


def test_commands_say_what_is_missing(klass, tmp_path):
    r = invoke("late", "hw9", "--db", str(klass["db"]), "--course", str(klass["course"]))
    assert r.exit_code == 2 and "no grades for hw9" in r.output
    (tmp_path / "exercises").mkdir()
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    (tmp_path / "course.toml").write_text(text[:text.index("# The grade:")], encoding="utf-8")
    r = invoke("course", "--course", str(tmp_path))
    assert r.exit_code == 2 and "has no [grade.components]" in r.output
    (tmp_path / "course.toml").unlink()
    r = invoke("late", "hw1", "--db", str(klass["db"]), "--course", str(tmp_path))
    assert r.exit_code == 2 and "this course has no course.toml" in r.output


def test_finals_go_when_the_rules_do(klass, tmp_path):
    """An assignment taken out of course.toml: its raw scores are final again."""
    db = tmp_path / "gb.sqlite"
    shutil.copy(klass["db"], db)
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    (course / "course.toml").write_text(
        '[course]\ntimezone = "America/New_York"\n\n[assignments.hw2]\n'
        "due = 2026-11-16T00:00:00-05:00\n", encoding="utf-8")
    out = tmp_path / "g.csv"
    r = invoke("export", "hw1", "--db", str(db), "--csv", str(out), "--total-only",
               "--course", str(course))
    assert r.exit_code == 0, r.output
    rows = {row[3].split("@")[0]: row[-1] for row in csv.reader(out.open(encoding="utf-8"))}
    assert rows["dan"] == "100" and rows["fay"] == "100" and finals(db) == {}


def test_times_in_a_named_zone_are_taken_as_meant(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from grader.policy.config import load

    text = (ROOT / "course.toml").read_text(encoding="utf-8").replace(
        "due = 2026-11-09T00:00:00-05:00", 'due = "2026-11-09 06:00 Europe/Paris"')
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    due = load(tmp_path / "course.toml").deadlines["hw1"].due
    assert due == datetime(2026, 11, 9, tzinfo=ZoneInfo("America/New_York"))
    assert due.tzname() == "EST"
