"""Tests for grader.authoring: stubs, cells and notebooks from an instructor's source."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest

from grader.authoring.exercises import GENERATED_HEADER, generate, make_stub
from grader.authoring.notebook import Cell, make_notebook, notebook_text, split_cells
from grader.errors import AuthoringError

REFERENCE = '''\
"""A tiny synthetic assignment."""
import math

# %% [markdown]
# # Part 1
#
# Write `double`.

# %% Part 1
def double(x):
    """Twice x."""
    # BEGIN SOLUTION
    y = 2 * x
    return y
    # END SOLUTION


def helper(x):
    return math.sqrt(x)

# %% [markdown]
# ## Part 2: a class

# %%
class Model:
    """A model."""

    def forward(self, x):
        # BEGIN SOLUTION
        return x + 1
        # END SOLUTION

    async def later(self):
        # BEGIN SOLUTION
        return 3
        # END SOLUTION


def outer(n):
    def inner():
        return n
    # BEGIN SOLUTION
    if n > 0:
        return inner()
    return -n
    # END SOLUTION
    return None
'''

SECRET_LINES = ["y = 2 * x", "return y", "return x + 1", "return 3", "return inner()", "-n"]


def _replace_regions(source: str, names: list[str]) -> str:
    """The expected stub, written independently of the implementation."""
    lines = source.splitlines(keepends=True)
    out, skipping, count = [], False, 0
    for line in lines:
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            indent = line[: len(line) - len(line.lstrip())]
            ending = line[len(line.rstrip("\r\n")) :]
            out.append(
                f'{indent}raise NotImplementedError("{names[count]}: your code here"){ending}'
            )
            count += 1
            skipping = True
        elif stripped == "# END SOLUTION":
            skipping = False
        elif not skipping:
            out.append(line)
    return "".join(out)


# --------------------------------------------------------------------------- make_stub


def test_stub_keeps_everything_outside_the_markers_byte_for_byte() -> None:
    stub = make_stub(REFERENCE, "ref.py")
    expected = _replace_regions(REFERENCE, ["double", "Model.forward", "Model.later", "outer"])
    assert stub == expected


def test_stub_hides_the_solution_and_parses() -> None:
    stub = make_stub(REFERENCE, "ref.py")
    ast.parse(stub)
    assert "SOLUTION" not in stub
    for secret in SECRET_LINES:
        assert secret not in stub


def test_each_stubbed_function_raises_not_implemented() -> None:
    namespace: dict[str, object] = {}
    exec(compile(make_stub(REFERENCE, "ref.py"), "stub.py", "exec"), namespace)  # noqa: S102 - our own stub
    calls = {
        "double": lambda: namespace["double"](1),  # type: ignore[operator]
        "Model.forward": lambda: namespace["Model"]().forward(1),  # type: ignore[operator]
        "outer": lambda: namespace["outer"](1),  # type: ignore[operator]
    }
    for name, call in calls.items():
        with pytest.raises(NotImplementedError, match=rf"^{re.escape(name)}: your code here$"):
            call()
    assert namespace["helper"](4) == 2.0  # type: ignore[operator]


def test_stub_keeps_crlf_line_endings_and_tabs() -> None:
    source = "def f(x):\r\n\t# BEGIN SOLUTION\r\n\treturn x\r\n\t# END SOLUTION\r\n\r\nZ = 1\r\n"
    stub = make_stub(source, "crlf.py")
    assert stub == 'def f(x):\r\n\traise NotImplementedError("f: your code here")\r\n\r\nZ = 1\r\n'


def test_marker_text_inside_a_string_is_not_a_marker() -> None:
    source = (
        "def f():\n"
        '    """Mentions\n'
        "    # BEGIN SOLUTION\n"
        '    in its docstring."""\n'
        "    # BEGIN SOLUTION\n"
        "    return 1\n"
        "    # END SOLUTION\n"
    )
    stub = make_stub(source, "s.py")
    assert stub == source.replace(
        "    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
        '    raise NotImplementedError("f: your code here")\n',
    )


def test_marker_nested_in_a_block() -> None:
    source = (
        "def f(x):\n"
        "    if x:\n"
        "        # BEGIN SOLUTION\n"
        "        return x\n"
        "        # END SOLUTION\n"
        "    return 0\n"
    )
    stub = make_stub(source, "s.py")
    namespace: dict[str, object] = {}
    exec(stub, namespace)  # noqa: S102 - our own stub
    assert namespace["f"](0) == 0  # type: ignore[operator]
    with pytest.raises(NotImplementedError, match="^f: "):
        namespace["f"](1)  # type: ignore[operator]


def test_empty_region_is_replaced_too() -> None:
    source = "def f():\n    # BEGIN SOLUTION\n    # END SOLUTION\n    return 0\n"
    assert make_stub(source, "s.py") == (
        'def f():\n    raise NotImplementedError("f: your code here")\n    return 0\n'
    )


def test_region_ending_the_file_without_final_newline() -> None:
    source = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION"
    assert (
        make_stub(source, "s.py")
        == 'def f():\n    raise NotImplementedError("f: your code here")\n'
    )


def _error(source: str, filename: str = "course/ref.py") -> str:
    with pytest.raises(AuthoringError) as info:
        make_stub(source, filename)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        pytest.param(
            "def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed", id="unclosed"
        ),
        pytest.param(
            "def f():\n    return 1\n    # END SOLUTION\n", 3, "without", id="end-without-begin"
        ),
        pytest.param(
            "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n"
            "    # END SOLUTION\n    # END SOLUTION\n",
            3,
            "nested",
            id="nested",
        ),
        pytest.param("def f():\n    return 1\n", 1, "no solution markers", id="no-markers"),
        pytest.param("", 1, "no solution markers", id="empty"),
        pytest.param(
            "X = 1\n# BEGIN SOLUTION\nY = 2\n# END SOLUTION\n", 2, "not inside", id="module-level"
        ),
        pytest.param(
            "def f():\n    return 1\n\nclass C:\n    # BEGIN SOLUTION\n    a = 1\n"
            "    # END SOLUTION\n",
            5,
            "not inside",
            id="class-body",
        ),
        pytest.param(
            "def f():\n    pass\n    # BEGIN SOLUTION\n  # END SOLUTION\n",
            4,
            "indented differently",
            id="indent-mismatch",
        ),
        pytest.param(
            "def f():\n    x = 1  # BEGIN SOLUTION\n    # END SOLUTION\n",
            2,
            "own",
            id="marker-after-code",
        ),
        pytest.param(
            "def f():\n    # Begin Solution\n    return 1\n", 2, "malformed", id="malformed"
        ),
        pytest.param(
            "def f():\n    return 1\n        # BEGIN SOLUTION\n        # END SOLUTION\n    x = 2\n",
            3,
            "does not give valid Python",
            id="stub-does-not-parse",
        ),
        pytest.param(
            "def f():\n    pass\n\ndef g(:\n    pass\n", 4, "does not parse", id="syntax-error"
        ),
    ],
)
def test_authoring_errors_name_file_and_line(source: str, line: int, words: str) -> None:
    message = _error(source)
    assert message.startswith(f"course/ref.py:{line}: "), message
    assert words in message


def test_syntax_error_message_carries_pythons_message() -> None:
    message = _error("def f(:\n    pass\n")
    assert message.startswith("course/ref.py:1: the source does not parse: ")
    assert "invalid syntax" in message


def test_markers_spanning_two_functions_are_rejected() -> None:
    source = "def f():\n    # BEGIN SOLUTION\n    pass\n\ndef g():\n    pass\n    # END SOLUTION\n"
    assert _error(source).startswith("course/ref.py:2: ")


# --------------------------------------------------------------------------- split_cells


def test_split_cells_kinds_and_sources() -> None:
    cells = split_cells(REFERENCE)
    assert [cell.kind for cell in cells] == ["code", "markdown", "code", "markdown", "code"]
    assert cells[0].source == '"""A tiny synthetic assignment."""\nimport math'
    assert cells[1].source == "# Part 1\n\nWrite `double`."
    assert cells[2].source.startswith("def double(x):")
    assert cells[2].source.endswith("return math.sqrt(x)")
    assert cells[3] == Cell("markdown", "## Part 2: a class")
    assert cells[4].source.startswith("class Model:")


def test_split_cells_strips_blank_lines_and_drops_empty_cells() -> None:
    source = (
        "\n\n# %%\n\n\n# %% [markdown]\n#\n# text\n#\n\n# %% [md]\n# short tag\n# %%\n\nx = 1\n\n"
    )
    assert split_cells(source) == [
        Cell("markdown", "text"),
        Cell("markdown", "short tag"),
        Cell("code", "x = 1"),
    ]


def test_split_cells_without_headers_is_one_code_cell() -> None:
    assert split_cells("x = 1\r\ny = 2\r\n") == [Cell("code", "x = 1\ny = 2")]
    assert split_cells("") == []
    assert split_cells("   \n") == []


def test_split_cells_keeps_code_comments_and_markdown_blank_lines() -> None:
    source = "# %%\n# a comment\nx = 1\n\n\ny = 2\n# %% [markdown]\n# a\n\n#b\n"
    assert split_cells(source) == [
        Cell("code", "# a comment\nx = 1\n\n\ny = 2"),
        Cell("markdown", "a\n\nb"),
    ]


def test_cell_is_frozen() -> None:
    cell = Cell("code", "x")
    with pytest.raises(AttributeError):
        cell.source = "y"  # type: ignore[misc]


# --------------------------------------------------------------------------- notebooks


def test_notebook_validates_and_mirrors_the_cells() -> None:
    stub = make_stub(REFERENCE, "ref.py")
    nb = make_notebook(stub, name="hw9")
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["language_info"]["name"] == "python"
    code_headers = [
        line for line in stub.splitlines() if line.startswith("# %%") and "[markdown]" not in line
    ]
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    # one code cell per "# %%" code cell, plus the preamble before the first header
    assert len(code_cells) == len(code_headers) + 1
    assert [cell.source for cell in nb.cells] == [cell.source for cell in split_cells(stub)]
    for cell in code_cells:
        assert cell.outputs == []
        assert cell.execution_count is None
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert markdown == ["# Part 1\n\nWrite `double`.", "## Part 2: a class"]
    assert [cell.id for cell in nb.cells] == [f"hw9-{i:02d}" for i in range(len(nb.cells))]


@pytest.mark.parametrize("name", ["hw 1.v2", "ü", "x" * 100, "---"])
def test_cell_ids_are_valid_for_any_name(name: str) -> None:
    nb = make_notebook("# %%\nx = 1\n# %%\ny = 2\n", name=name)
    nbformat.validate(nb)
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == 2
    for cell_id in ids:
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", cell_id)


def test_notebook_text_is_deterministic_and_reads_back() -> None:
    stub = make_stub(REFERENCE, "ref.py")
    first = notebook_text(make_notebook(stub, name="hw9"))
    second = notebook_text(make_notebook(stub, name="hw9"))
    assert first == second
    assert first.endswith("}\n")
    assert nbformat.reads(first, as_version=4) == make_notebook(stub, name="hw9")


# --------------------------------------------------------------------------- generate


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    source = tmp_path / "solutions" / "hw9.py"
    source.parent.mkdir()
    source.write_bytes(REFERENCE.encode())
    return source, tmp_path / "exercises" / "hw9.py", tmp_path / "exercises" / "hw9.ipynb"


def test_generate_writes_stub_and_notebook(layout: tuple[Path, Path, Path]) -> None:
    source, py_out, ipynb_out = layout
    assert generate(source, py_out, ipynb_out) == [py_out, ipynb_out]
    text = py_out.read_text(encoding="utf-8")
    assert text == GENERATED_HEADER + make_stub(REFERENCE, str(source))
    first_line = text.splitlines()[0]
    assert first_line.startswith("#") and "grade assign" in first_line
    assert "solutions" not in first_line and "hw9" not in first_line
    notebook = nbformat.read(ipynb_out, as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].id == "hw9-00"
    assert "grade assign" not in ipynb_out.read_text(encoding="utf-8")
    for secret in SECRET_LINES:
        assert secret not in text
        assert secret not in ipynb_out.read_text(encoding="utf-8")


def test_generate_again_is_byte_identical_and_leaves_files_alone(
    layout: tuple[Path, Path, Path],
) -> None:
    source, py_out, ipynb_out = layout
    generate(source, py_out, ipynb_out)
    before = {path: path.read_bytes() for path in (py_out, ipynb_out)}
    for path in before:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert generate(source, py_out, ipynb_out) == []
    for path, data in before.items():
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == 1_000_000_000
    assert sorted(p.name for p in py_out.parent.iterdir()) == ["hw9.ipynb", "hw9.py"]


def test_generate_rewrites_only_what_changed(layout: tuple[Path, Path, Path]) -> None:
    source, py_out, ipynb_out = layout
    generate(source, py_out, ipynb_out)
    ipynb_out.write_text("stale", encoding="utf-8")
    assert generate(source, py_out, ipynb_out) == [ipynb_out]
    source.write_bytes(REFERENCE.replace("y = 2 * x", "y = x + x").encode())
    assert generate(source, py_out, ipynb_out) == []  # the change is inside the markers
    source.write_bytes(REFERENCE.replace("Twice x.", "Double x.").encode())
    assert generate(source, py_out, ipynb_out) == [py_out, ipynb_out]


def test_generate_reports_authoring_errors_with_the_path(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    # BEGIN SOLUTION\n    pass\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(AuthoringError, match=rf"^{re.escape(str(source))}:2: "):
        generate(source, out / "bad.py", out / "bad.ipynb")
    assert not out.exists()
    with pytest.raises(AuthoringError, match="no such file"):
        generate(tmp_path / "missing.py", out / "m.py", out / "m.ipynb")
