"""The CI gate on an audit: what makes ``--fail-under`` and ``grade verify --audit`` fail."""

from __future__ import annotations

from grader.audit.model import AuditReport

__all__ = ["gate_failures"]


def gate_failures(rep: AuditReport, fail_under: float = 100.0) -> list[str]:
    """One line per reason to fail: a score below ``fail_under``, collateral, bad declarations."""
    out = []
    if rep.score < fail_under - 1e-9:
        ids = ", ".join(r.mutant.id for r in rep.survivors[:5])
        more = f" (+{len(rep.survivors) - 5} more)" if len(rep.survivors) > 5 else ""
        out.append(f"mutation score {rep.score:.1f}% is below {fail_under:g}%: "
                   f"{len(rep.survivors)} survivor(s): {ids}{more}")
    coll = rep.with_collateral
    if coll:
        out.append(f"{len(coll)} mutant(s) cost points on other items than their own "
                   f"(an item not graded on its own?): {', '.join(r.mutant.id for r in coll[:5])}")
    wrong = [r.mutant.id for r in rep.results if r.wrongly_equivalent]
    if wrong:
        out.append(f"declared equivalent but killed by the cases (remove the declaration): "
                   f"{', '.join(wrong[:5])}")
    return out
