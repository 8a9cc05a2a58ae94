"""Reading the finals the gradebook keeps (``grade batch`` and ``grade late`` write them):
what the exports need, without the machinery that computes them."""

from __future__ import annotations

import json

from grader.batch.gradebook import Gradebook
from grader.policy.lateness import Final


def finals(book: Gradebook, assignment: str) -> dict[str, Final]:
    """The stored finals of ``assignment`` by student (empty: never computed)."""
    return {r["student"]: Final(**json.loads(r["detail"])) for r in book.conn.execute(
        "SELECT detail, student FROM finals WHERE assignment = ? ORDER BY rowid",
        (assignment,))}
