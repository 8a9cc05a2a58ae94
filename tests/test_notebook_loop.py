"""The notebook loop: the generated notebook's check() cells, run in a real kernel
(nbclient) inside a release copy, as a student runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "hw1.py"
SLIP = "\n\ndef dxi4_dxi3(xi3):\n    return 1.0 / np.asarray(xi3, dtype=np.float64) ** 2\n"


def _items() -> list[tuple[str, tuple[str, ...]]]:
    from grader.course.folder import load

    return [(it.id, it.functions) for it in load("hw1", ROOT, public_only=True).items]


def test_released_notebook_has_a_check_cell_after_each_item():
    nb = nbformat.read(ROOT / "exercises" / "hw1.ipynb", as_version=4)
    checks = [(i, c.source) for i, c in enumerate(nb.cells) if "check(" in c.source
              and c.cell_type == "code"]
    assert [re.search(r'check\("(\w+)"', s).group(1) for _, s in checks] == [
        i for i, _ in _items()]
    for index, source in checks:  # right after the cell defining the item's last function
        item = re.search(r'check\("(\w+)"', source).group(1)
        functions = dict(_items())[item]
        before = "\n".join(c.source for c in nb.cells[:index] if c.cell_type == "code")
        assert all(f"def {f}(" in before for f in functions), item
    intro = nb.cells[0].source
    assert "grade hw1 --submission exercises/hw1.ipynb" in intro and 'check("item")' in intro


def test_check_in_a_kernel_prints_a_compact_summary_and_echoes_nothing(release, monkeypatch):
    from grader.authoring.notebook import make_notebook

    nb = make_notebook(REFERENCE.read_text(encoding="utf-8"), name="hw1", checks=_items())
    keep = {"sigmoid", "elementary", "forward_mode"}
    cells = []
    for c in nb.cells:
        m = re.search(r'check\("(\w+)"', c.source) if c.cell_type == "code" else None
        if m and m.group(1) not in keep:
            continue
        if c.cell_type == "code" and "def sigmoid(" in c.source:
            c.source = "%precision 4\n" + c.source  # a magic line: removed, the rest kept
        if c.cell_type == "code" and "def dxi4_dxi3(" in c.source:
            c.source += SLIP  # a sign slip in one derivative
        cells.append(c)
    nb.cells = cells
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel and grade use this checkout
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(release / "exercises")}})
    client.execute()
    shown = {}
    for c in nb.cells:
        m = re.search(r'check\("(\w+)"', c.source) if c.cell_type == "code" else None
        if m:
            assert not [o for o in c.outputs if o.output_type == "execute_result"]
            shown[m.group(1)] = "".join(o.get("text", "") for o in c.outputs
                                        if o.output_type == "stream")
    assert set(shown) == keep
    sig = shown["sigmoid"]
    assert sig.splitlines()[0] == "sigmoid: 1.24/1.24 passed"  # the public share, rounded
    assert "IPython line removed (%precision 4); the rest of the cell was graded" in sig
    assert "solutions/ is not here" not in sig
    ele = shown["elementary"].splitlines()
    assert re.fullmatch(r"elementary: [\d.]+/[\d.]+ partial", ele[0])
    assert "dxi4_dxi3" in ele[1] and "sign is flipped" in ele[1]
    assert ele[2].startswith("  called dxi4_dxi3(")
    assert not any(ln.count("dxi4_dxi3 at") > 1 for ln in ele)  # no doubled prefix
    fwd = shown["forward_mode"].splitlines()[0]  # the slip is charged once, where it is
    assert re.fullmatch(r"forward_mode: ([\d.]+)/\1 passed", fwd), fwd
