"""`grade batch`, `grade export`, `grade report`: layouts, roster, groups, bad inputs, the
gradebook's resumability and concurrency, and the exports' formats.

One class of 19 generated submissions is graded once (module fixture) and read by many
tests; the tests of interruption and concurrency run the real command in a subprocess.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import REFERENCE, ROOT, STUB

from grader.authoring.notebook import make_notebook
from grader.batch.discover import detect_layout, discover
from grader.batch.gradebook import Gradebook
from grader.batch.records import fatal_message
from grader.batch.roster import match_roster, read_roster
from grader.batch.run import run_batch
from grader.cli.main import main
from grader.errors import UsageError
from grader.result import Result

REF = REFERENCE.read_text(encoding="utf-8")
STUB_TEXT = STUB.read_text(encoding="utf-8")
N_ITEMS = 17
SIGN_SLIP = "def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n"
HANG_EXIT_KILL_GARBAGE = (
    "import os, signal, sys\n"
    "def perceptron(X, y, n_epochs):\n    while True:\n        pass\n"
    "def minibatches(n, batch_size, rng):\n    os._exit(3)\n"
    "def neuron_accuracy(X, y, W):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    "def xi1(W, X):\n    sys.stdout.write('\\x00\\xff' * 100000)\n    return object()\n")


def ref(extra: str = "", tag: str = "") -> str:
    return f"# {tag}\n{REF}\n\n{extra}\n"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rows(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql, params))
    finally:
        con.close()


def whole(db: Path) -> None:
    """Every stored submission has all its items, and they add up to its score."""
    assert rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    for s in rows(db, "SELECT * FROM submissions"):
        items = rows(db, "SELECT * FROM results WHERE assignment = ? AND submission = ?",
                     s["assignment"], s["submission"])
        assert len(items) == N_ITEMS, s["submission"]
        assert abs(sum(i["score"] for i in items) - s["score"]) < 1e-6
        assert {i["hash"] for i in items} == {s["hash"]}


# =========================================================================== the class


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder-layout class with every kind of good and bad submission, and its roster."""
    base = tmp_path_factory.mktemp("klass")
    subs = base / "submissions"
    subs.mkdir()
    (subs / "alice.py").write_text(ref(tag="alice"), encoding="utf-8")
    (subs / "bob.py").write_text(STUB_TEXT, encoding="utf-8")
    (subs / "carol.py").write_text(ref(SIGN_SLIP, "carol"), encoding="utf-8")
    (subs / "dan").mkdir()
    (subs / "dan" / "hw1.py").write_text(ref(SIGN_SLIP, "dan"), encoding="utf-8")
    (subs / "dan" / "group.txt").write_text("dan\nerin  # my partner\n", encoding="utf-8")
    (subs / "frank").mkdir()
    (subs / "frank" / "hw1.py").write_text(ref(tag="frank"), encoding="utf-8")
    (subs / "frank" / "scratch.py").write_text(STUB_TEXT, encoding="utf-8")
    (subs / "gina.py").write_text("", encoding="utf-8")
    (subs / "hank.py").write_bytes(b"\x00\x01\x02PK\x03\x04 binary")
    (subs / "ivy.ipynb").write_text('{"cells": [', encoding="utf-8")
    (subs / "jack.ipynb").write_text('{"nbformat": 4, "cells": [{"cell_type": "code"}]}',
                                     encoding="utf-8")
    (subs / "kate.py").write_bytes("x = 'caf\u00e9'\n".encode("latin-1"))
    with (subs / "leo.py").open("wb") as f:
        f.truncate(100 * 1024 * 1024)   # 100 MB (sparse)
    (subs / "mia.py").write_text(ref("def broken(:\n    pass", "mia"), encoding="utf-8")
    (subs / "ned").mkdir()
    (subs / "ned" / "README.md").write_text("I forgot the code\n", encoding="utf-8")
    (subs / "oscar.py").write_text(ref(HANG_EXIT_KILL_GARBAGE, "oscar"), encoding="utf-8")
    nb = make_notebook(REF, name="hw1")
    nb.cells.append(nbformat.v4.new_code_cell("exploration = undefined_name + 1"))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    (subs / "quinn.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    (subs / "xavier.py").write_text(STUB_TEXT, encoding="utf-8")   # not on the roster
    (subs / ".DS_Store").write_bytes(b"\x00junk")
    roster = base / "roster.csv"
    names = ["alice", "bob", "carol", "dan", "erin", "frank", "gina", "hank", "ivy", "jack",
             "kate", "leo", "mia", "ned", "oscar", "quinn", "zoe"]
    roster.write_text("id,name,email,section\n" + "".join(
        f"{n},{n.title()} Student,{n}@uni.example,S1\n" for n in names), encoding="utf-8")
    db = base / "gradebook.sqlite"
    r = invoke("batch", "hw1", str(subs), "--roster", str(roster), "--db", str(db),
               "--course", str(ROOT), "--workers", "2", "--time-scale", "0.2")
    assert r.exit_code == 0, r.output
    return {"base": base, "subs": subs, "roster": roster, "db": db, "output": r.output}


def sub(klass: dict[str, Path], key: str) -> sqlite3.Row:
    found = rows(klass["db"], "SELECT * FROM submissions WHERE submission = ?", key)
    assert found, key
    return found[0]


def stored_result(klass: dict[str, Path], key: str) -> Result:
    with Gradebook(klass["db"], create=False) as book:
        row = book.submission("hw1", key)
    assert row is not None and row.result_dict() is not None
    return Result.from_json(row.result_dict())


def test_every_submission_is_stored_whole(klass):
    whole(klass["db"])
    keys = {r["submission"] for r in rows(klass["db"], "SELECT submission FROM submissions")}
    assert keys == {"alice", "bob", "carol", "dan", "frank", "gina", "hank", "ivy", "jack",
                    "kate", "leo", "mia", "ned", "oscar", "quinn", "xavier"}


def test_scores_of_good_submissions(klass):
    assert sub(klass, "alice")["score"] == 100
    assert sub(klass, "quinn")["score"] == 100           # the notebook
    assert sub(klass, "bob")["score"] == 0 and sub(klass, "bob")["status"] == "graded"
    assert sub(klass, "carol")["score"] == 99
    assert sub(klass, "frank")["score"] == 100 and sub(klass, "frank")["file"] == "hw1.py"


@pytest.mark.parametrize("key, words", [
    ("gina", "empty file"),
    ("hank", "binary file"),
    ("ivy", "not a valid notebook (invalid JSON"),
    ("jack", "not a valid notebook (cell 1 has no source"),
    ("kate", "not UTF-8"),
    ("leo", "100.0 MB, over the 5.0 MB limit"),
    ("mia", "syntax error at line"),
    ("ned", "has no .py or .ipynb file"),
])
def test_bad_inputs_are_errors_with_a_clear_message(klass, key, words):
    s = sub(klass, key)
    assert s["status"] == "error" and s["score"] == 0, dict(s)
    assert words in s["message"], s["message"]
    assert "\n" not in s["message"] and "Traceback" not in s["message"]
    items = rows(klass["db"], "SELECT * FROM results WHERE submission = ?", key)
    assert len(items) == N_ITEMS and all(i["status"] == "error" for i in items)
    assert f"{key}: " in klass["output"] and words in klass["output"]


def test_two_candidate_files_say_which_was_graded(klass):
    notes = json.loads(sub(klass, "frank")["notes"])
    assert any("graded hw1.py, not scratch.py" in n["text"] and n["kind"] == "choice"
               for n in notes)
    assert "graded hw1.py, not scratch.py" in klass["output"]


def test_crash_hang_and_garbage_cost_their_items_only(klass):
    items = {r["item"]: r for r in rows(klass["db"], "SELECT * FROM results WHERE "
                                                      "submission = 'oscar'")}
    assert items["perceptron"]["status"] == "timeout"
    assert items["minibatches"]["status"] == "error"
    assert items["neuron"]["status"] in ("partial", "error")
    assert items["elementary"]["status"] == "partial"
    lost = {k for k, r in items.items() if r["score"] < r["max_score"]}
    assert lost == {"perceptron", "minibatches", "neuron", "elementary"}
    assert items["sgd"]["status"] == "passed" and items["train_mlp"]["status"] == "passed"


def test_roster_no_submission_and_unmatched_files(klass):
    out = klass["output"]
    assert "no submission (1):\n  Zoe Student (zoe)" in out
    assert "not on the roster (1):\n  xavier" in out
    assert ".DS_Store" not in out


def test_group_score_goes_to_every_member(klass):
    members = rows(klass["db"], "SELECT student FROM members WHERE submission = 'dan'")
    assert sorted(m["student"] for m in members) == ["dan", "erin"]
    csv_path = klass["base"] / "grades.csv"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--csv", str(csv_path))
    assert r.exit_code == 0, r.output
    table = {row["SIS Login ID"]: row
             for row in csv.DictReader(csv_path.open(encoding="utf-8"))}
    assert table["dan@uni.example"]["hw1"] == table["erin@uni.example"]["hw1"] == "99"


def test_same_result_as_grading_one_by_one(klass, grade_hw1):
    subs = klass["subs"]
    for key, path in [("alice", subs / "alice.py"), ("carol", subs / "carol.py"),
                      ("quinn", subs / "quinn.ipynb"), ("mia", subs / "mia.py"),
                      ("frank", subs / "frank" / "hw1.py")]:
        stored = stored_result(klass, key)
        assert stored.to_json() == grade_hw1(path).to_json(), key


def test_a_failed_load_does_not_inherit_the_last_notes(tmp_path):
    """A worker grades a notebook with a failing cell, then a syntax error: the second
    result must not carry the first one's notes (Judge keeps load notes between runs)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = make_notebook(STUB_TEXT, name="hw1")
    nb.cells.append(nbformat.v4.new_code_cell("boom = undefined_name"))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    (subs / "a.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    (subs / "b.py").write_text("def broken(:\n", encoding="utf-8")
    s = run_batch("hw1", subs, course=ROOT, db=tmp_path / "g.sqlite", workers=1)
    assert s.graded == 2
    with Gradebook(tmp_path / "g.sqlite", create=False) as book:
        a = book.submission("hw1", "a")
        b = book.submission("hw1", "b")
    assert a is not None and b is not None
    assert any("NameError" in n.text for n in a.notes)
    assert not any("NameError" in n.text for n in b.notes) and b.status == "error"


# =========================================================================== re-runs


def test_rerun_grades_only_what_changed(klass, tmp_path):
    subs, db = klass["subs"], klass["db"]
    before = {r["submission"]: r["graded_at"] for r in rows(db, "SELECT * FROM submissions")}
    r = invoke("batch", "hw1", str(subs), "--roster", str(klass["roster"]), "--db", str(db),
               "--course", str(ROOT), "--workers", "2", "--time-scale", "0.2")
    assert r.exit_code == 0, r.output
    assert "graded 0, unchanged 15" in r.output
    after = {r["submission"]: r["graded_at"] for r in rows(db, "SELECT * FROM submissions")}
    assert after == before
    # bob fixes his work: only bob is graded again
    (subs / "bob.py").write_text(ref(tag="bob"), encoding="utf-8")
    try:
        r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(ROOT),
                   "--workers", "1", "--time-scale", "0.2")
        assert r.exit_code == 0, r.output
        assert "graded 1, unchanged 14" in r.output
        changed = {k for k, v in {r["submission"]: r["graded_at"] for r in
                                  rows(db, "SELECT * FROM submissions")}.items()
                   if v != before[k]}
        assert changed == {"bob"} and sub(klass, "bob")["score"] == 100
    finally:
        (subs / "bob.py").write_text(STUB_TEXT, encoding="utf-8")
        r = invoke("batch", "hw1", str(subs), "--db", str(db), "--course", str(ROOT),
                   "--workers", "1", "--time-scale", "0.2")
        assert r.exit_code == 0 and sub(klass, "bob")["score"] == 0


def test_identical_content_is_graded_once(tmp_path):
    subs = tmp_path / "subs"
    for name in ("ann", "ben", "cid"):
        (subs / name).mkdir(parents=True)
        (subs / name / "hw1.py").write_text(STUB_TEXT, encoding="utf-8")
    s = run_batch("hw1", subs, course=ROOT, db=tmp_path / "g.sqlite", workers=2)
    assert (s.graded, s.copied) == (1, 2) and s.found == 3
    got = rows(tmp_path / "g.sqlite", "SELECT submission, seconds, result FROM submissions")
    assert len({r["seconds"] for r in got}) == 1
    assert {json.loads(r["result"])["submission"] for r in got} == {"hw1.py"}
    cases = rows(tmp_path / "g.sqlite", "SELECT submission, item, cases FROM results")
    assert len({(r["item"], r["cases"]) for r in cases}) == N_ITEMS
    # a new student hands in the same file: copied, not graded
    (subs / "dee").mkdir()
    (subs / "dee" / "hw1.py").write_text(STUB_TEXT, encoding="utf-8")
    s = run_batch("hw1", subs, course=ROOT, db=tmp_path / "g.sqlite", workers=1)
    assert (s.graded, s.copied, s.unchanged) == (0, 1, 3)


# =========================================================================== layouts


def test_layout_detection(tmp_path):
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    (canvas / "doejane_12345_67890_hw1.py").write_text("x", encoding="utf-8")
    (canvas / "roesmith_late_222_333_hw1.ipynb").write_text("x", encoding="utf-8")
    assert detect_layout(canvas) == "canvas"
    gs = tmp_path / "gs"
    (gs / "submission_1").mkdir(parents=True)
    (gs / "submission_metadata.yml").write_text("{}", encoding="utf-8")
    assert detect_layout(gs) == "gradescope"
    gs2 = tmp_path / "gs2"
    (gs2 / "submission_1").mkdir(parents=True)
    (gs2 / "submission_1" / "submission_metadata.json").write_text("{}", encoding="utf-8")
    assert detect_layout(gs2) == "gradescope"
    folder = tmp_path / "folder"
    (folder / "alice").mkdir(parents=True)
    (folder / "bob.py").write_text("x", encoding="utf-8")
    assert detect_layout(folder) == "folder"


def test_canvas_download_takes_the_newest_resubmission(tmp_path):
    d = tmp_path / "canvas"
    d.mkdir()
    (d / "doejane_101_5000_hw1.py").write_text(STUB_TEXT, encoding="utf-8")
    (d / "doejane_101_5007_hw1-1.py").write_text(ref(tag="jane"), encoding="utf-8")
    (d / "roesmith_LATE_202_5003_hw1.ipynb").write_text('{"cells": [', encoding="utf-8")
    (d / "roesmith_LATE_202_5003_notes.pdf").write_bytes(b"%PDF")
    (d / "listing.html").write_text("index", encoding="utf-8")
    disc = discover(d, "hw1")
    assert disc.layout == "canvas" and disc.ignored == ["listing.html"]
    found = {f.key: f for f in disc.found}
    assert found["101"].path is not None and found["101"].path.name == "doejane_101_5007_hw1-1.py"
    assert any("graded the newest" in n.text for n in found["101"].notes)
    assert any(n.kind == "late" for n in found["202"].notes)
    roster = tmp_path / "roster.csv"
    # a Canvas gradebook export works as a roster: Student, ID, SIS User ID, Section
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,HW1 (77)\n"
                      "    Points Possible,,,,,100\n"
                      '"Doe, Jane",101,s101,jdoe,Sec A,\n'
                      '"Roe, Smith",202,s202,sroe,Sec B,\n'
                      '"Poe, Ed",303,s303,epoe,Sec A,\n', encoding="utf-8")
    db = tmp_path / "g.sqlite"
    r = invoke("batch", "hw1", str(d), "--roster", str(roster), "--db", str(db), "--course",
               str(ROOT), "--workers", "2")
    assert r.exit_code == 0, r.output
    assert "(canvas layout)" in r.output and "no submission (1):\n  Poe, Ed (303)" in r.output
    score = {s["submission"]: s["score"] for s in rows(db, "SELECT * FROM submissions")}
    assert score == {"101": 100, "202": 0}
    out = tmp_path / "grades.csv"
    r = invoke("export", "hw1", "--db", str(db), "--csv", str(out), "--column", "HW1 (77)")
    assert r.exit_code == 0, r.output
    lines = list(csv.reader(out.open(encoding="utf-8")))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1 (77)"]
    assert lines[1] == ["    Points Possible", "", "", "", "", "100"]
    assert lines[2] == ["Doe, Jane", "101", "s101", "jdoe", "Sec A", "100"]
    assert lines[4] == ["Poe, Ed", "303", "s303", "epoe", "Sec A", "0"]


def test_canvas_name_key_matches_a_roster_without_canvas_ids(tmp_path):
    d = tmp_path / "canvas"
    d.mkdir()
    (d / "doejane_101_5000_hw1.py").write_text("x", encoding="utf-8")
    disc = discover(d, "hw1")
    roster = [*read_roster_text(tmp_path, "id,name,email\nJD7,Jane Doe,jd@uni.example\n")]
    assert match_roster(disc.found, roster) == []
    assert disc.found[0].members[0].id == "JD7"


def read_roster_text(tmp_path: Path, text: str) -> list:
    p = tmp_path / "r.csv"
    p.write_text(text, encoding="utf-8")
    return read_roster(p)


GS_META = """\
submission_1001:
  :submitters:
  - :name: Ann Lee
    :sid: '11'
    :email: ann@uni.example
  - :name: Bo Kim
    :sid: '12'
    :email: bo@uni.example
  :created_at: 2026-10-01 10:00:00.000000000 -07:00
  :score: 0.0
submission_1002:
  :submitters:
  - :name: Cy Day
    :sid: '13'
    :email: cy@uni.example
submission_1003:
  :submitters:
  - {":name": D1, ":sid": '21'}
  - {":name": D2, ":sid": '22'}
  - {":name": D3, ":sid": '23'}
  - {":name": D4, ":sid": '24'}
submission_1004:
  :submitters:
  - {":name": Cy Day, ":sid": '13'}
  - {":name": Ed Fox, ":sid": '14'}
"""


def test_gradescope_export_groups_and_their_errors(tmp_path):
    d = tmp_path / "export"
    for k in range(1001, 1005):
        (d / f"submission_{k}").mkdir(parents=True)
        (d / f"submission_{k}" / "hw1.py").write_text(STUB_TEXT if k != 1001 else ref(tag="g"),
                                                     encoding="utf-8")
    (d / "submission_metadata.yml").write_text(GS_META, encoding="utf-8")
    db = tmp_path / "g.sqlite"
    r = invoke("batch", "hw1", str(d), "--db", str(db), "--course", str(ROOT),
               "--workers", "2")
    assert r.exit_code == 0, r.output
    assert "(gradescope layout)" in r.output
    subs = {s["submission"]: s for s in rows(db, "SELECT * FROM submissions")}
    assert subs["submission_1001"]["score"] == 100
    assert json.loads(subs["submission_1001"]["members"]) == ["11", "12"]
    assert subs["submission_1003"]["status"] == "error"
    assert "a group of 4" in subs["submission_1003"]["message"]
    for k in ("submission_1002", "submission_1004"):   # Cy is in both
        assert subs[k]["status"] == "error"
        assert "13 is in 2 submissions" in subs[k]["message"]
    out = tmp_path / "gs"
    r = invoke("export", "hw1", "--db", str(db), "--gradescope", str(out), "--csv",
               str(tmp_path / "g.csv"))
    assert r.exit_code == 0, r.output
    table = {row["SIS User ID"]: row for row in csv.DictReader((tmp_path / "g.csv").open())}
    assert table["11"]["hw1"] == table["12"]["hw1"] == "100"
    assert table["11"]["Student"] == "Ann Lee"
    results = json.loads((out / "submission_1001" / "results.json").read_text())
    assert results["score"] == 100 and len(results["tests"]) == N_ITEMS
    # the group is fixed: only the now-valid submission is graded
    (d / "submission_metadata.yml").write_text(
        GS_META.replace("  - {\":name\": D4, \":sid\": '24'}\n", ""), encoding="utf-8")
    r = invoke("batch", "hw1", str(d), "--db", str(db), "--course", str(ROOT),
               "--workers", "1")
    assert r.exit_code == 0, r.output
    assert "graded 1, unchanged 1" in r.output
    assert sub_row(db, "submission_1003")["status"] == "graded"


def sub_row(db: Path, key: str) -> sqlite3.Row:
    return rows(db, "SELECT * FROM submissions WHERE submission = ?", key)[0]


def test_gradescope_autograder_metadata_in_each_folder(tmp_path):
    d = tmp_path / "export"
    (d / "s1").mkdir(parents=True)
    (d / "s1" / "hw1.ipynb").write_text("{}", encoding="utf-8")
    (d / "s1" / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": "a@x.example", "id": 7, "name": "A"},
                            {"email": "b@x.example", "id": 8, "name": "B"}]}),
        encoding="utf-8")
    disc = discover(d, "hw1")
    assert [m.id for m in disc.found[0].members] == ["a@x.example", "b@x.example"]
    assert disc.found[0].path is not None and disc.found[0].path.name == "hw1.ipynb"


def test_links_out_of_the_folder_are_not_read(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("TA_PASSWORD = 'x'\n", encoding="utf-8")
    d = tmp_path / "subs"
    (d / "eve").mkdir(parents=True)
    (d / "eve" / "hw1.py").symlink_to(secret)
    (d / "mal.py").symlink_to(secret)
    (d / "ok").mkdir()
    (d / "ok" / "hw1.py").write_text("x = 1\n", encoding="utf-8")
    (d / "ok" / "same.py").symlink_to(d / "ok" / "hw1.py")   # inside: fine
    found = {f.key: f for f in discover(d, "hw1").found}
    assert found["eve"].path is None and "outside the submissions folder" in found["eve"].error
    assert found["mal"].path is None and "mal.py is a link" in found["mal"].error
    assert found["ok"].path is not None and not found["ok"].error


def test_groups_limits_and_overlaps(tmp_path):
    d = tmp_path / "subs"
    for owner, mates in [("a", "b c d"), ("e", "f"), ("g", "f"), ("h", "")]:
        (d / owner).mkdir(parents=True)
        (d / owner / "hw1.py").write_text("x = 1\n", encoding="utf-8")
        if mates:
            (d / owner / "group.txt").write_text(mates, encoding="utf-8")
    found = {f.key: f for f in discover(d, "hw1").found}
    assert "a group of 4 (a, b, c, d)" in found["a"].error and found["a"].reason == "group"
    assert "f is in 2 submissions (e, g)" in found["e"].error
    assert "f is in 2 submissions (e, g)" in found["g"].error
    assert not found["h"].error


# =========================================================================== usage errors


@pytest.mark.parametrize("args, message", [
    (["batch", "hw1", "no/such/folder"], "no such folder"),
    (["batch", "hw1", "tests", "--layout", "moodle"], "unknown layout 'moodle'"),
    (["batch", "hw1", "tests", "--roster", "nope.csv"], "roster nope.csv: no such file"),
    (["batch", "hw1", "pyproject.toml"], "is not a folder"),
    (["batch", "hw9", "tests"], "unknown assignment 'hw9'"),
    (["batch", "hw1", "tests", "--workers", "0"], "--workers must be at least 1"),
    (["export", "hw1", "--db", "no_such.sqlite", "--csv", "x.csv"], "no gradebook at"),
    (["report", "hw1", "--db", "no_such.sqlite"], "no gradebook at"),
])
def test_ta_mistakes_are_one_line_exit_2(args, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.output


def test_a_ta_mistake_through_the_real_command():
    p = cli("batch", "hw1", "no/such/folder")
    assert p.returncode == 2 and p.stderr.startswith("error: no/such/folder: no such folder")
    assert p.stderr.count("\n") == 1 and not p.stdout


@pytest.mark.parametrize("text, message", [
    ("name,email\nA,a@x\n", "has no id column"),
    ("id,name\n1,A\n1,B\n", "id 1 appears twice (lines 2 and 3)"),
    ("id,name\n,A\n", "line 2 has no id"),
    ("", "is empty"),
    ("id,name\n", "lists no students"),
])
def test_bad_roster_is_one_line_exit_2(tmp_path, text, message):
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    (tmp_path / "subs").mkdir()
    r = CliRunner().invoke(main, ["batch", "hw1", str(tmp_path / "subs"), "--roster",
                                  str(roster), "--db", str(tmp_path / "g.sqlite"),
                                  "--course", str(ROOT)])
    assert r.exit_code == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.output
    assert not (tmp_path / "g.sqlite").exists()


def test_non_utf8_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes("id,name\n1,Jos\u00e9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_roster(roster)


def test_export_needs_something_to_do_and_known_grades(klass):
    r = invoke("export", "hw1", "--db", str(klass["db"]))
    assert r.exit_code == 2 and "nothing to export" in r.output
    r = invoke("export", "hw7", "--db", str(klass["db"]), "--csv", "x.csv")
    assert r.exit_code == 2 and "no grades for hw7" in r.output and "it has: hw1" in r.output


# =========================================================================== exports


def test_csv_export_is_canvas_shaped(klass):
    out = klass["base"] / "all.csv"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--csv", str(out), "--items")
    assert r.exit_code == 0, r.output
    lines = list(csv.reader(out.open(encoding="utf-8")))
    head = lines[0]
    assert head[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert head[5:-1] == [f"hw1: {i}" for i in ("sigmoid", "loss", "elementary",
                                                 "forward_mode", "backward_mode",
                                                 "loss_and_grad", "gradient_descent",
                                                 "fit_logistic", "minibatches", "sgd",
                                                 "graph_forward", "graph_backward", "neuron",
                                                 "perceptron", "mlp_forward", "mlp_backward",
                                                 "train_mlp")]
    assert head[-1] == "hw1"
    assert lines[1][0].strip() == "Points Possible" and lines[1][-1] == "100"
    table = {row[3].split("@")[0]: row for row in lines[2:]}   # SIS Login ID: the email
    assert table["alice"][0] == "Alice Student" and table["alice"][4] == "S1"
    assert table["alice"][-1] == "100" and table["zoe"][-1] == "0"
    assert table["gina"][-1] == "0" and "xavier" not in table   # not on the roster
    assert "left out 1 not on the roster: xavier" in r.output
    assert table["carol"][head.index("hw1: elementary")] == "17"
    for row in lines[2:]:
        assert abs(sum(float(x) for x in row[5:-1]) - float(row[-1])) < 0.05
    assert len(lines) == 2 + 17   # the roster's 17
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--csv", str(out), "--status")
    assert r.exit_code == 0, r.output
    table = {row["SIS Login ID"].split("@")[0]: row
             for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert (table["zoe"]["Status"], table["zoe"]["hw1"]) == ("no submission", "0")
    assert table["gina"]["Status"] == "error" and "empty file" in table["gina"]["Message"]
    assert table["alice"]["Status"] == "graded" and table["alice"]["Message"] == ""


def test_gradescope_results_schema(klass):
    out = klass["base"] / "gradescope"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--gradescope", str(out))
    assert r.exit_code == 0, r.output
    files = sorted(out.glob("*/results.json"))
    assert len(files) == 16
    allowed_top = {"score", "execution_time", "output", "output_format", "test_output_format",
                   "test_name_format", "visibility", "stdout_visibility", "extra_data",
                   "tests", "leaderboard"}
    allowed_test = {"score", "max_score", "status", "name", "name_format", "number", "output",
                    "output_format", "tags", "visibility", "extra_data"}
    for f in files:
        d = json.loads(f.read_text(encoding="utf-8"))
        assert set(d) <= allowed_top and {"score", "execution_time", "tests"} <= set(d)
        assert isinstance(d["execution_time"], int) and isinstance(d["score"], float)
        assert len(d["tests"]) == N_ITEMS
        for t in d["tests"]:
            assert set(t) <= allowed_test
            assert {"name", "score", "max_score", "output", "visibility"} <= set(t)
            assert t["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
            assert t["status"] in ("passed", "failed")
        assert abs(sum(t["score"] for t in d["tests"]) - d["score"]) < 1e-6
    mia = json.loads((out / "mia" / "results.json").read_text())
    assert "syntax error" in mia["output"] and mia["score"] == 0


def test_feedback_hides_hidden_cases_until_asked(klass):
    out = klass["base"] / "feedback"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--feedback", str(out))
    assert r.exit_code == 0, r.output
    assert len(list(out.glob("*.md"))) == 18
    carol = (out / "carol.md").read_text(encoding="utf-8")
    assert "**Score: 99 / 100**" in carol and "## What to fix" in carol
    assert "sign is flipped" in carol and "### elementary" in carol
    assert re.search(r"of \d+ hidden cases: \d+ failed; their details are released after "
                     "the deadline", carol)
    assert "hidden case " not in carol
    erin = (out / "erin.md").read_text(encoding="utf-8")
    assert "group submission with dan" in erin and "**Score: 99 / 100**" in erin
    assert "No submission" in (out / "zoe.md").read_text(encoding="utf-8")
    assert "syntax error" in (out / "mia.md").read_text(encoding="utf-8")
    assert "Every item passes" in (out / "alice.md").read_text(encoding="utf-8")
    shown = klass["base"] / "feedback_all"
    r = invoke("export", "hw1", "--db", str(klass["db"]), "--feedback", str(shown),
               "--show-hidden", "--format", "html")
    assert r.exit_code == 0, r.output
    page = (shown / "carol.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "hidden case " in page
    assert "http://" not in page and "https://" not in page


def test_report_is_self_contained(klass):
    out = klass["base"] / "report.html"
    r = invoke("report", "hw1", "--db", str(klass["db"]), "--out", str(out))
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert page.count("<figure class=\"chart") == 2 and "<img" not in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    for words in ("Score", "Most common diagnoses", "the sign is flipped", "Errors and timeouts",
                  "Slowest submissions", "perceptron", "timeout", "syntax error", "zoe"):
        assert words in page, words


def test_a_result_has_one_serialisation_that_round_trips(klass):
    for key in ("carol", "mia", "quinn"):
        r = stored_result(klass, key)
        data = json.loads(json.dumps(r.to_json()))
        assert Result.from_json(data) == r and data == r.to_json()
    assert stored_result(klass, "mia").load_error.startswith("the submission has a syntax")


def test_fatal_message_detects_nothing_ran(klass):
    mia = stored_result(klass, "mia")
    assert fatal_message(mia).startswith("the submission has a syntax error")
    bob = stored_result(klass, "bob")
    assert fatal_message(bob) == ""


# =========================================================================== interruption


def _class_of(folder: Path, n: int, full: int = 2) -> None:
    """``n`` submissions that take a while but little CPU (the stubs, after a pause at
    import); the first ``full`` of them are the reference (100), the others score 0."""
    folder.mkdir(parents=True)
    for i in range(n):
        text = ref(tag=f"s{i}") if i < full else f"# s{i}\n{STUB_TEXT}"
        (folder / f"s{i:02d}.py").write_text(f"import time\ntime.sleep(0.4)\n{text}",
                                             encoding="utf-8")


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "grader.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _count(db: Path) -> int:
    try:
        return len(rows(db, "SELECT submission FROM submissions"))
    except sqlite3.Error:
        return 0


def _wait_for(pred, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


def _descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                kids.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out[1:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")
def test_kill_9_mid_run_then_resume(tmp_path):
    folder, db = tmp_path / "subs", tmp_path / "g.sqlite"
    _class_of(folder, 8)
    p = _popen("batch", "hw1", str(folder), "--db", str(db), "--workers", "2", "-q")
    _wait_for(lambda: _count(db) >= 2 or p.poll() is not None)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(30)
    whole(db)
    done = {r["submission"]: r["graded_at"] for r in rows(db, "SELECT * FROM submissions")}
    assert 2 <= len(done) < 8, "the kill came too late to test anything"
    assert rows(db, "SELECT status FROM runs")[0]["status"] == "running"   # it never finished
    q = cli("batch", "hw1", str(folder), "--db", str(db), "--workers", "2")
    assert q.returncode == 0, q.stderr
    assert f"graded {8 - len(done)}, unchanged {len(done)}" in q.stdout
    assert [r["status"] for r in rows(db, "SELECT status FROM runs")] == ["stopped", "done"]
    whole(db)
    after = {r["submission"]: r["graded_at"] for r in rows(db, "SELECT * FROM submissions")}
    assert len(after) == 8 and all(after[k] == v for k, v in done.items())
    scores = [r["score"] for r in rows(db, "SELECT score FROM submissions ORDER BY submission")]
    assert scores == [100.0] * 2 + [0.0] * 6


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path):
    folder, db = tmp_path / "subs", tmp_path / "g.sqlite"
    _class_of(folder, 8)
    p = _popen("batch", "hw1", str(folder), "--db", str(db), "--workers", "2", "-q")
    _wait_for(lambda: _count(db) >= 1 or p.poll() is not None)
    os.kill(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "interrupted" in err, err
    whole(db)
    assert rows(db, "SELECT status FROM runs")[0]["status"] == "interrupted"
    assert _count(db) < 8, "the interrupt came too late to test anything"
    saved = re.search(r"interrupted: (\d+) submissions? graded in this run and saved", err)
    assert saved and int(saved.group(1)) == _count(db), err
    assert "run the same command again" in err and "Traceback" not in err
    q = cli("batch", "hw1", str(folder), "--db", str(db), "--workers", "2")
    assert q.returncode == 0 and _count(db) == 8, q.stderr
    whole(db)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")
def test_a_killed_worker_does_not_stop_the_batch(tmp_path):
    folder, db = tmp_path / "subs", tmp_path / "g.sqlite"
    _class_of(folder, 12)
    p = _popen("batch", "hw1", str(folder), "--db", str(db), "--workers", "2", "-q")

    def a_worker() -> int | None:
        for pid in _descendants(p.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"grader.runner" in cmd and b"fork-server" in cmd and _count(db) >= 1:
                stat = Path(f"/proc/{pid}/stat").read_text()
                return int(stat[stat.rindex(")") + 2:].split()[1])   # the fork server's parent
        return None

    found: list[int] = []
    _wait_for(lambda: bool(found.append(a_worker() or 0) or found[-1]) or p.poll() is not None)
    assert found[-1], "the batch ended before a worker could be killed"
    os.kill(found[-1], signal.SIGKILL)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    whole(db)
    got = rows(db, "SELECT submission, status, score FROM submissions ORDER BY submission")
    assert len(got) == 12 and {r["status"] for r in got} == {"graded"}
    lost = rows(db, "SELECT submission, item, feedback FROM results WHERE score < max_score "
                    "AND submission IN ('s00', 's01')")
    assert not lost, [tuple(r) for r in lost]
    assert [r["score"] for r in got] == [100.0] * 2 + [0.0] * 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_two_runs_at_once_on_one_gradebook(tmp_path):
    folder, db = tmp_path / "subs", tmp_path / "g.sqlite"
    _class_of(folder, 6)
    a = _popen("batch", "hw1", str(folder), "--db", str(db), "--workers", "1", "-q")
    b = _popen("batch", "hw1", str(folder), "--db", str(db), "--workers", "1", "-q")
    outs = [x.communicate(timeout=180) for x in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    whole(db)
    assert _count(db) == 6
    graded = [int(re.search(r"this run: graded (\d+)", o).group(1)) for o, _ in outs]
    assert sum(graded) == 6, outs   # shared out, none graded twice
    assert any("another grade batch was running on this gradebook" in o for o, _ in outs)
    assert len(rows(db, "SELECT * FROM runs WHERE status = 'done'")) == 2
    c = cli("batch", "hw1", str(folder), "--db", str(db))
    assert "graded 0, unchanged 6" in c.stdout, c.stdout + c.stderr
