"""What grading learned, kept in solutions/.cache (grader.course.memo): the next run grades
without importing the declarations when nothing new comes up, and gives exactly the
verdicts a run without the memo gives, whatever comes up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_course

from grader.api import Grader
from grader.course.memo import memo_path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"

SLIPS = {
    "sign slip": "def dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3) ** 2\n",
    # fit_logistic passes the student's gradient to gradient_descent: replayed calls differ
    "wrong gradient": ("def loss_and_grad(X, y, W):\n"
                       "    l, g = _ref_lag(X, y, W)\n    return l, 2 * g\n"),
    "raising gradient": "def loss_and_grad(X, y, W):\n    raise ValueError('no gradient')\n",
    "oscar": ("import sys\ndef xi1(W, X):\n    sys.stdout.write('\\x00\\xff' * 1000)\n"
              "    return object()\n"),
    "wrong minibatches": ("def minibatches(n, batch_size, rng):\n"
                          "    idx = np.arange(n)\n"
                          "    return [idx[i:i + batch_size] for i in range(0, n, batch_size)]\n"),
    "untrained mlp": ("def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):\n"
                      "    return init_mlp(layer_sizes, rng)\n"),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_course(tmp_path_factory.mktemp("memo") / "course")


def _submission(tmp: Path, name: str, extra: str) -> Path:
    p = tmp / f"{name.replace(' ', '_')}.py"
    p.write_text(REFERENCE.read_text() + "\n_ref_lag = loss_and_grad\n\n" + extra + "\n")
    return p


def _grade_all(course: Path, subs: list[Path], server: object) -> list[dict]:
    with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
        out = []
        for s in subs:
            d = g.grade(s).to_json()
            d.pop("seconds", None)
            d.pop("submission", None)
            out.append(d)
        return out


def test_a_warm_memo_grades_without_the_declarations_and_agrees(course, server, tmp_path):
    subs = [REFERENCE] + [_submission(tmp_path, n, x) for n, x in SLIPS.items()]
    memo = memo_path(course, "hw1")
    cold = []
    for s in subs:  # each with nothing learned before it
        memo.unlink(missing_ok=True)
        cold += _grade_all(course, [s], server)
    _grade_all(course, [REFERENCE], server)  # what a correct submission teaches
    assert memo.exists() and memo.stat().st_mode & 0o077 == 0
    with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
        ref = g.assignment.reference
        assert g.grade(REFERENCE).full_marks
        assert ref._decl._module is None, "the declarations were imported"  # type: ignore[union-attr]
    assert _grade_all(course, subs, server) == cold


def test_a_stale_or_damaged_memo_is_not_used(course, server):
    memo = memo_path(course, "hw1")
    _grade_all(course, [REFERENCE], server)
    key = memo.read_bytes()
    data = course / "data" / "note.txt"
    data.write_text("a new data file changes the key")
    try:
        with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
            assert not isinstance(g.assignment.reference, type(None))
            assert not hasattr(g.assignment.reference, "_decl")  # the real module
            assert g.grade(REFERENCE).full_marks
    finally:
        data.unlink()
    memo.write_bytes(b"\xc1 damaged")
    with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
        assert not hasattr(g.assignment.reference, "_decl")
        assert g.grade(REFERENCE).full_marks
    assert memo.read_bytes() != b"\xc1 damaged" and json.dumps(len(key))


def test_another_version_of_the_grader_has_another_key(course):
    import os

    from grader.course import memo

    verdict = Path(memo.__file__).resolve().parents[1] / "judge" / "verdict.py"
    st = verdict.stat()
    before = memo.memo_key(course, "hw1")
    os.utime(verdict, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        assert memo.memo_key(course, "hw1") != before
    finally:
        os.utime(verdict, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert memo.memo_key(course, "hw1") == before


def test_the_memo_keeps_only_the_most_recently_used(course, server, tmp_path, monkeypatch):
    import msgpack

    from grader.judge.memory import Memory

    monkeypatch.setattr(Memory, "MEMO_VERDICTS", 40)
    monkeypatch.setattr(Memory, "MEMO_REPLIES", 30)
    memo = memo_path(course, "hw1")
    memo.unlink(missing_ok=True)
    slip = _submission(tmp_path, "slip", SLIPS["sign slip"])
    first = _grade_all(course, [slip, REFERENCE], server)
    data = msgpack.unpackb(memo.read_bytes(), raw=False, strict_map_key=False)
    assert len(data["verdicts"]) == 40 and len(data["replies"]) == 30
    assert _grade_all(course, [slip, REFERENCE], server) == first  # evicted: computed again


def test_a_memo_of_this_version_with_damaged_cases_is_not_used(course, server):
    import msgpack

    memo = memo_path(course, "hw1")
    _grade_all(course, [REFERENCE], server)
    data = msgpack.unpackb(memo.read_bytes(), raw=False, strict_map_key=False)
    data["hidden"] = [{"not": "a case"}]
    memo.write_bytes(msgpack.packb(data, use_bin_type=True))
    with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
        assert not hasattr(g.assignment.reference, "_decl")  # the real module
        assert g.grade(REFERENCE).full_marks


@pytest.fixture
def fresh_course(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "fresh")


def _expected(course: Path, server: object) -> list[object]:
    """The hidden cases' expectations as a grader loads them (closing it keeps the memo)."""
    with Grader(course, "hw1", server=server) as g:  # type: ignore[arg-type]
        return [pc.expected for pc in g.assignment.hidden()]


def _unpacked(path: Path) -> dict:
    import msgpack

    return msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)


def test_the_memo_is_written_private_and_its_expectations_are_used(fresh_course, server,
                                                                    grade_hw1):
    import msgpack

    fresh = _expected(fresh_course, server)
    path = memo_path(fresh_course, "hw1")
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
    assert _expected(fresh_course, server) == fresh
    # proof that the file is read: a doctored expectation is what grading then uses
    data = _unpacked(path)
    k = next(i for i, e in enumerate(data["hidden"]) if e["expected"] is not None)
    data["hidden"][k]["expected"] = {"__nd__": ["<f8", [], "AAAAAAAA8D8="]}  # 1.0
    data["verdicts"] = []  # (they were judged against the true expectation)
    path.write_bytes(msgpack.packb(data, use_bin_type=True))
    name = data["hidden"][k]["name"]
    result = grade_hw1(REFERENCE, course=fresh_course)
    failed = [c.name for it in result.items for c in it.cases if not c.passed]
    assert failed == [name]


def test_a_changed_declaration_or_a_damaged_memo_prepares_afresh(fresh_course, server):
    fresh = _expected(fresh_course, server)
    path = memo_path(fresh_course, "hw1")
    path.write_text("{not msgpack")
    assert _expected(fresh_course, server) == fresh  # damaged: prepared again, rewritten
    key = _unpacked(path)["key"]
    assert key
    decl = fresh_course / "solutions" / "hw1_cases.py"
    decl.write_text(decl.read_text() + "\n# a change\n")
    assert _expected(fresh_course, server) == fresh
    assert _unpacked(path)["key"] != key


def test_a_course_where_the_memo_cannot_be_written_still_grades(fresh_course, server):
    (fresh_course / "solutions" / ".cache").write_text("a file where the folder would go")
    fresh = _expected(fresh_course, server)
    assert fresh and fresh == _expected(fresh_course, server)
    assert (fresh_course / "solutions" / ".cache").is_file()


def test_arguments_travel_as_they_would_decoded_and_encoded_again(root):
    """The judge converts a case's arguments to message form without building them
    (protocol.binary.to_binary): the bytes are those of decoding and encoding again,
    every case."""
    from grader.course.folder import load
    from grader.protocol import wire
    from grader.protocol.binary import to_binary

    a = load("hw1", root)
    for pc in a.public + a.hidden():
        for tree in [*pc.args, pc.kwargs]:
            value = wire.Decoder(allow_dataframe=True).decode(tree)
            again = wire.pack_value(wire.Encoder(dataframes=True).encode(value))
            assert wire.pack_value(to_binary(tree)) == again, pc.case.name
