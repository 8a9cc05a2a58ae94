"""The hidden cases' expectations kept on disk (solutions/.cache): used when everything
they depend on is unchanged, prepared afresh otherwise, never shown to anyone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_course

from grader.course.folder import load
from grader.course.hidden_cache import cache_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


def _expected(course: Path) -> list[object]:
    return [pc.expected for pc in load("hw1", course).hidden()]


def test_the_cache_is_written_private_and_reused(course, grade_hw1):
    fresh = _expected(course)
    path = cache_path(course, "hw1")
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
    assert _expected(course) == fresh
    # proof that the file is read: a doctored expectation is what grading then uses
    data = json.loads(path.read_text())
    k = next(i for i, e in enumerate(data["cases"]) if e["expected"] is not None)
    data["cases"][k]["expected"] = {"__nd__": ["<f8", [], "AAAAAAAA8D8="]}  # 1.0
    path.write_text(json.dumps(data))
    name = load("hw1", course).hidden()[k].case.name
    result = grade_hw1(ROOT / "solutions" / "hw1.py", course=course)
    failed = [c.name for it in result.items for c in it.cases if not c.passed]
    assert failed == [name]


def test_a_changed_declaration_or_a_damaged_file_prepares_afresh(course):
    fresh = _expected(course)
    path = cache_path(course, "hw1")
    path.write_text("{not json")
    assert _expected(course) == fresh  # damaged: prepared again, and rewritten
    assert json.loads(path.read_text())["key"]
    key = json.loads(path.read_text())["key"]
    decl = course / "solutions" / "hw1_cases.py"
    decl.write_text(decl.read_text() + "\n# a change\n")
    assert _expected(course) == fresh
    assert json.loads(path.read_text())["key"] != key


def test_a_course_where_the_cache_cannot_be_written_still_grades(course):
    (course / "solutions" / ".cache").write_text("a file where the folder would go")
    fresh = _expected(course)
    assert fresh and fresh == _expected(course)
    assert (course / "solutions" / ".cache").is_file()


def test_arguments_travel_as_they_would_decoded_and_encoded_again(root):
    """The judge converts a case's arguments to message form without building them
    (wire.to_binary): the bytes are those of decoding and encoding again, every case."""
    from grader.protocol import wire

    a = load("hw1", root)
    for pc in a.public + a.hidden():
        for tree in [*pc.args, pc.kwargs]:
            value = wire.Decoder(allow_dataframe=True).decode(tree)
            again = wire.pack_value(wire.Encoder(dataframes=True).encode(value))
            assert wire.pack_value(wire.to_binary(tree)) == again, pc.case.name
