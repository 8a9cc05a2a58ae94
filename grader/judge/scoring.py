"""Scoring: how an item's points are split over its cases, and an item's result."""

from __future__ import annotations

from grader.course.spec import Assignment, Item, PreparedCase
from grader.result import NOT_LOADED, CaseResult, ItemResult, item_status


def item_result(item: Item, cases: list[CaseResult]) -> ItemResult:
    """An item's score, status and one line of feedback from its cases' verdicts."""
    status = item_status(cases)
    score = round(sum(c.score for c in cases), 6)
    max_score = round(sum(c.max_score for c in cases), 6)
    failing = [c for c in cases if not c.passed]
    if not failing:
        feedback = "all cases pass"
    elif all(c.message == NOT_LOADED for c in failing):
        feedback = NOT_LOADED
    else:
        first = next((c for c in failing if c.visibility == "public"), failing[0])
        more = len(failing) - 1
        feedback = first.message + (f" (+{more} more failing case{'s' * (more > 1)})"
                                    if more else "")
    return ItemResult(item.id, item.title, score, max_score, status, feedback, cases)


def shares(item: Item, cases: list[PreparedCase], a: Assignment) -> dict[int, float]:
    """Points of each case: the item's points over its parts, a part's over its cases.

    The one place where points are split.  Parts take ``item.parts`` weights (equal when
    absent); within a part, cases share by weight; public-only grading knows the hidden
    weights from the public file and so scores out of the public share.
    """
    parts: list[str] = list(item.parts) if item.parts else []
    for pc in cases:
        if pc.case.part not in parts:
            parts.append(pc.case.part)
    weights = {p: float(item.parts.get(p, 1.0)) for p in parts}
    total = sum(weights.values()) or 1.0
    part_weight: dict[str, float] = {}
    for pc in cases:
        part_weight[pc.case.part] = part_weight.get(pc.case.part, 0.0) + pc.case.weight
    if not a.full:
        for (iid, part), w in a.hidden_weights.items():
            if iid == item.id and part in part_weight:
                part_weight[part] += w
    return {id(pc): round(item.points * weights[pc.case.part] / total * pc.case.weight
                          / part_weight[pc.case.part], 9) for pc in cases}
