"""Tests for grader.submission: reading .py files and notebooks into source code."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.course.submission import DEFAULT_MAX_BYTES, Source, load_source
from grader.errors import SubmissionError


def _error(path: Path, **kwargs: Any) -> str:
    with pytest.raises(SubmissionError) as info:
        load_source(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def _code(source: str | list[str]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def _markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _notebook(tmp_path: Path, cells: list[Any], name: str = "hw.ipynb", **extra: Any) -> Path:
    path = tmp_path / name
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **extra}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- .py files


def test_py_file_is_read_as_is(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(b"def f(x):\r\n    return x  # \xc3\xa9\r\n")
    source = load_source(path)
    assert source == Source(
        code="def f(x):\r\n    return x  # \u00e9\r\n", filename="hw.py", notes=[], kind="py"
    )


def test_py_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert load_source(path).code == "x = 1\n"


def test_uppercase_extension_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "HW.PY"
    path.write_text("x = 1\n", encoding="utf-8")
    assert load_source(path).kind == "py"


def test_source_is_frozen(tmp_path: Path) -> None:
    path = tmp_path / "hw.py"
    path.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_source(path).code = ""  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"x = 1\x00\n", "binary file", id="nul"),
        pytest.param(b"", "empty file: nothing to grade", id="empty"),
        pytest.param(b"\xef\xbb\xbf \n\n", "empty file: nothing to grade", id="bom-and-blanks"),
        pytest.param(b"x = 1\ny = '\xe9'\n", "not UTF-8 text (byte 0xe9 on line 2)", id="latin1"),
    ],
)
def test_unreadable_py_files(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "hw.py"
    path.write_bytes(data)
    message = _error(path)
    assert message.startswith("hw.py ")
    assert words in message


def test_size_cap(tmp_path: Path) -> None:
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    path = tmp_path / "hw.py"
    path.write_bytes(b"x = 1\n" * 200)
    assert "over the" in _error(path, max_bytes=1000)
    assert load_source(path, max_bytes=1200).code.count("x = 1") == 200
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * (DEFAULT_MAX_BYTES + 1))
    assert "5.0 MB limit" in _error(big)
    notebook = _notebook(tmp_path, [_code("x = 1")])
    assert "clear the notebook's outputs" in _error(notebook, max_bytes=10)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "hw.py")
    assert "not a file" in _error(tmp_path)


@pytest.mark.parametrize("name", ["hw.txt", "hw.pyc", "hw", "hw.ipynb.zip"])
def test_other_extensions_are_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x = 1\n", encoding="utf-8")
    assert f"{name} is not a .py file or a .ipynb notebook" in _error(path)


# --------------------------------------------------------------------------- notebooks


def test_notebook_code_cells_are_joined_in_order_with_cell_comments(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path,
        [
            _markdown("# Title"),
            _code(["import math\n", "def f(x):\n", "    return math.sqrt(x)"]),
            {"cell_type": "raw", "metadata": {}, "source": "raw text"},
            _code("def g():\n    return f(4)\n"),
            _code("   \n"),
        ],
    )
    source = load_source(path)
    assert source.kind == "ipynb"
    assert source.filename == "hw.ipynb"
    assert source.notes == []
    assert source.code == (
        "# cell 2\nimport math\ndef f(x):\n    return math.sqrt(x)\n"
        "\n"
        "# cell 4\ndef g():\n    return f(4)\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source.code, source.filename, "exec"), namespace)  # noqa: S102 - test input
    assert namespace["g"]() == 2.0


def test_outputs_are_ignored(tmp_path: Path) -> None:
    cell = _code("x = 1")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["import os\n"]}]
    cell["execution_count"] = 3
    assert load_source(_notebook(tmp_path, [cell])).code == "# cell 1\nx = 1\n"


@pytest.mark.parametrize(
    ("cell_source", "shown", "kept"),
    [
        pytest.param("%matplotlib inline\nimport numpy", "%matplotlib inline", "import numpy",
                     id="line-magic"),
        pytest.param("%%time\nx = 1\n", "%%time", "x = 1", id="cell-magic"),
        pytest.param("x = 1\nif x:\n  %timeit f(x)\n", "%timeit f(x)", "if x:\n  pass",
                     id="indented-magic"),
        pytest.param(["!pip install numpy\n", "x = 1"], "!pip install numpy", "x = 1",
                     id="shell"),
        pytest.param("ip = get_ipython()\nx = 1", "ip = get_ipython()", "x = 1",
                     id="get-ipython"),
    ],
)
def test_ipython_lines_are_removed_and_the_rest_kept_with_a_note(
    tmp_path: Path, cell_source: str | list[str], shown: str, kept: str
) -> None:
    path = _notebook(tmp_path, [_markdown("intro"), _code(cell_source), _code("y = 2")])
    source = load_source(path)
    first, second = source.code.split("# cell 3\n")
    assert first.startswith("# cell 2\n") and kept in first and shown not in first
    assert second == "y = 2\n"
    compile(source.code, "nb", "exec")
    lines = "".join(cell_source).rstrip("\n").split("\n")
    assert first.rstrip("\n").split("\n")[1:] == [  # same lines: tracebacks still match
        ln[:len(ln) - len(ln.lstrip())] + "pass" if shown in ln else ln for ln in lines]
    [note] = source.notes
    assert note.kind == "notebook"
    assert note.text == (f"cell 2: IPython line removed ({shown}); the rest of the cell "
                         "was graded")


def test_a_cell_in_another_language_is_skipped_with_a_note(tmp_path: Path) -> None:
    source = load_source(_notebook(tmp_path, [_code("%%bash\nls -la"), _code("y = 2")]))
    assert source.code == "# cell 2\ny = 2\n"
    [note] = source.notes
    assert note.text.startswith("cell 1 skipped: %%bash makes it a cell of another language")


def test_percent_and_bang_in_plain_python_are_kept(tmp_path: Path) -> None:
    code = 'y = (10\n     % 3)\nok = (y\n      != 2)\ns = """\n%d items\n"""\n'
    source = load_source(_notebook(tmp_path, [_code(code)]))
    assert source.notes == []
    assert source.code == "# cell 1\n" + code


def test_long_magic_is_shortened_in_the_note(tmp_path: Path) -> None:
    source = load_source(_notebook(tmp_path, [_code("%run " + "x" * 100), _code("y = 1")]))
    assert len(source.notes[0].text) < 200
    assert "..." in source.notes[0].text


def test_cells_of_only_magics_still_load_with_notes(tmp_path: Path) -> None:
    source = load_source(_notebook(tmp_path, [_code("%pwd"), _code("!ls")]))
    assert source.code == "# cell 1\npass\n\n# cell 2\npass\n"
    assert [note.text[:30] for note in source.notes] == ["cell 1: IPython line removed (",
                                                         "cell 2: IPython line removed ("]


def test_notebook_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"cells": [_code("x = 1")]}).encode())
    assert load_source(path).code == "# cell 1\nx = 1\n"


@pytest.mark.parametrize(
    ("document", "words"),
    [
        pytest.param('{"cells": [', "invalid JSON at line 1", id="truncated-json"),
        pytest.param("not json at all", "invalid JSON", id="not-json"),
        pytest.param("[1, 2]", "no 'cells' list", id="top-level-list"),
        pytest.param('{"metadata": {}}', "no 'cells' list", id="no-cells"),
        pytest.param('{"cells": {"a": 1}}', "no 'cells' list", id="cells-not-list"),
        pytest.param('{"cells": [3]}', "cell 1 is not an object", id="cell-not-object"),
        pytest.param('{"cells": [{"source": "x"}]}', "cell 1 has no cell_type", id="no-type"),
        pytest.param(
            '{"cells": [{"cell_type": "code", "source": "x=1"}, {"cell_type": "markdown"}]}',
            "cell 2 has no source",
            id="no-source",
        ),
        pytest.param(
            '{"cells": [{"cell_type": "code", "source": [1, 2]}]}',
            "cell 1's source is not text",
            id="source-not-text",
        ),
        pytest.param('{"cells": [], "nbformat": 3}', "old notebook format 3", id="nbformat-3"),
        pytest.param(
            '{"cells": [{"cell_type": "markdown", "source": "# hi"}]}',
            "no code cells: nothing to grade",
            id="no-code-cells",
        ),
        pytest.param('{"cells": []}', "no code cells", id="no-cells-at-all"),
        pytest.param("   ", "empty file", id="blank"),
    ],
)
def test_corrupt_notebooks(tmp_path: Path, document: str, words: str) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_text(document, encoding="utf-8")
    message = _error(path)
    assert message.startswith("hw.ipynb ")
    assert words in message


def test_binary_notebook(tmp_path: Path) -> None:
    path = tmp_path / "hw.ipynb"
    path.write_bytes(b"PK\x03\x04\x00\x00")
    assert "binary file" in _error(path)


def test_generated_notebook_loads_back(tmp_path: Path) -> None:
    from grader.authoring.exercises import make_stub
    from grader.authoring.notebook import make_notebook, notebook_text

    reference = (
        "# %% [markdown]\n# Intro\n# %%\ndef f(x):\n    # BEGIN SOLUTION\n    return x\n"
        "    # END SOLUTION\n# %%\nY = 2\n"
    )
    path = tmp_path / "hw.ipynb"
    path.write_text(
        notebook_text(make_notebook(make_stub(reference, "r.py"), name="hw")), encoding="utf-8"
    )
    source = load_source(path)
    ast.parse(source.code)
    assert source.code.startswith("# cell 2\ndef f(x):\n")
    assert "# cell 3\nY = 2\n" in source.code


def test_loading_does_not_import_nbformat(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [_code("x = 1")])
    script = (
        "import sys; from pathlib import Path; from grader.course.submission import load_source; "
        f"load_source(Path({str(path)!r})); assert 'nbformat' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[1])
