"""A messy class as a TA receives it: 23 submissions in the folder layout, a Canvas download
and rosters.  Used by ``test_ta_day.py`` to replay a TA's day with the real commands.

Folder layout (``class/``), 23 submissions:
  ana, ben, abe.ipynb, hal (latin-1 with a PEP 263 coding line), yas (not on the roster):
      the reference, full marks;
  cat: a flipped sign; sam, tom, uma: byte-identical files with another slip;
  dev: the stub; xan: perceptron raises an empty MemoryError; vic: perceptron hangs;
  eve empty, fay binary, gus not UTF-8, ivy a corrupt notebook, jon 6 MB, kim a syntax
  error, wes.txt a stray text file: could not be graded;
  lee/: a group of 3 (lee, mo, nat); oli/: an illegal group of 4;
  pia/: a group with ros, who also handed in ros.py: both are held back.
Roster: everyone above but yas, plus zoe (no submission) and Canvas's "Student, Test".
"""

from __future__ import annotations

from pathlib import Path

from conftest import REFERENCE, STUB

REF = REFERENCE.read_text(encoding="utf-8")
STUB_TEXT = STUB.read_text(encoding="utf-8")
SIGN_SLIP = "def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n"
OTHER_SLIP = "def xi3(xi2):\n    return 2 + np.asarray(xi2)\n"
MEMORY = "def perceptron(X, y, n_epochs):\n    raise MemoryError()\n"
HANG = "def perceptron(X, y, n_epochs):\n    while True:\n        pass\n"

GRADED = ["abe", "ana", "ben", "cat", "dev", "hal", "lee", "sam", "tom", "uma", "vic", "xan",
          "yas"]
ERRORS = ["eve", "fay", "gus", "ivy", "jon", "kim", "oli", "pia", "ros", "wes"]
IDENTICAL = ["sam", "tom", "uma"]
STUDENTS = ["abe", "ana", "ben", "cat", "dev", "eve", "fay", "gus", "hal", "ivy", "jon", "kim",
            "lee", "mo", "nat", "oli", "pam", "quin", "ray", "pia", "ros", "sam", "tom", "uma",
            "vic", "wes", "xan", "zoe"]
TEST_STUDENT_ID = "99999"


def ref(extra: str = "", tag: str = "") -> str:
    return f"# {tag}\n{REF}\n\n{extra}\n"


def _notebook(text: str) -> str:
    import nbformat

    from grader.authoring.notebook import make_notebook

    nb = make_notebook(text, name="hw1")
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    return nbformat.writes(nb)


def _files(d: Path) -> None:
    for name in ("ana", "ben", "yas"):
        (d / f"{name}.py").write_text(ref(tag=name), encoding="utf-8")
    (d / "abe.ipynb").write_text(_notebook(REF), encoding="utf-8")
    (d / "hal.py").write_bytes(("# -*- coding: latin-1 -*-\n# Hal, café\n" + REF)
                               .encode("latin-1", "replace"))   # é as one byte, 0xe9
    (d / "cat.py").write_text(ref(SIGN_SLIP, "cat"), encoding="utf-8")
    for name in IDENTICAL:
        (d / f"{name}.py").write_text(ref(OTHER_SLIP, "shared"), encoding="utf-8")
    (d / "dev.py").write_text(STUB_TEXT, encoding="utf-8")
    (d / "xan.py").write_text(ref(MEMORY, "xan"), encoding="utf-8")
    (d / "vic.py").write_text(ref(HANG, "vic"), encoding="utf-8")
    (d / "eve.py").write_text("", encoding="utf-8")
    (d / "fay.py").write_bytes(b"\x00\x01\x02PK\x03\x04 binary")
    (d / "gus.py").write_bytes("x = 'caf\u00e9'\n".encode("latin-1"))
    (d / "ivy.ipynb").write_text('{"cells": [', encoding="utf-8")
    with (d / "jon.py").open("wb") as f:
        f.truncate(6 * 1024 * 1024)
    (d / "kim.py").write_text(ref("def broken(:\n    pass", "kim"), encoding="utf-8")
    (d / "wes.txt").write_text("my answers are in my head\n", encoding="utf-8")
    (d / "ros.py").write_text(ref(tag="ros"), encoding="utf-8")


def _groups(d: Path) -> None:
    for owner, members in (("lee", "mo\nnat\n"), ("oli", "pam, quin, ray\n"), ("pia", "ros\n")):
        (d / owner).mkdir()
        (d / owner / "hw1.py").write_text(ref(tag=owner), encoding="utf-8")
        (d / owner / "group.txt").write_text(f"{owner}\n{members}", encoding="utf-8")


def _canvas(d: Path) -> None:
    d.mkdir()
    (d / "doejane_101_5001_hw1.py").write_text(ref(tag="jane"), encoding="utf-8")
    (d / "roesmith_LATE_202_5002_hw1.py").write_text(STUB_TEXT, encoding="utf-8")


def build(base: Path) -> dict[str, Path]:
    """Write the class under ``base``; returns its folders and rosters."""
    folder = base / "class"
    folder.mkdir(parents=True)
    _files(folder)
    _groups(folder)
    roster = base / "roster.csv"
    roster.write_text("id,name,email\n" + "".join(
        f"{s},{s.title()} Lastname,{s}@uni.example\n" for s in STUDENTS)
        + f'{TEST_STUDENT_ID},"Student, Test",\n', encoding="utf-8")
    canvas = base / "canvas"
    _canvas(canvas)
    canvas_roster = base / "canvas_roster.csv"
    canvas_roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (77)\n"
        "    Points Possible,,,,,100\n"
        '"Doe, Jane",101,s101,jdoe,Sec A,\n'
        '"Roe, Smith",202,s202,sroe,Sec B,\n'
        '"Poe, Ed",303,s303,epoe,Sec A,\n'
        f'"Student, Test",{TEST_STUDENT_ID},,,Sec A,\n', encoding="utf-8")
    return {"folder": folder, "roster": roster, "canvas": canvas,
            "canvas_roster": canvas_roster}
