"""The CI gate on an audit: what makes ``--fail-under`` and ``grade verify --audit`` fail."""

from __future__ import annotations

from pathlib import Path

from grader.audit.model import AuditReport
from grader.authoring.verify import Check

__all__ = ["CACHE_FILE", "ci_workflow", "gate_failures", "verify_check"]

CACHE_FILE = ".grade-audit.sqlite"   # in the course folder, unless --cache says otherwise


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


def verify_check(root: Path, name: str, workers: int | None = None) -> Check:
    """``grade verify --audit``'s check: the audit passes the gate at 100%."""
    from grader.audit.run import audit

    title = "every non-equivalent mutant is killed, with no collateral (grade audit)"
    rep = audit(name, root, workers=workers, cache=root / CACHE_FILE)
    problems = gate_failures(rep, 100.0)
    detail = "; ".join(problems) + f"; see `grade audit {name}`" if problems else ""
    return Check(f"{title}: {rep.total().mutants} mutants, score {rep.score:.1f}%",
                 not problems, detail)


_CACHE_STEP = """      - name: Keep the audit's verdicts between runs
        uses: actions/cache@v4
        with:
          path: {cache}
          key: grade-audit-${{{{ github.sha }}}}
          restore-keys: grade-audit-
"""


def ci_workflow(text: str) -> str:
    """``grade init-ci --audit``: the verify workflow, running the audit too (cached)."""
    step = "      - name: Verify every assignment\n        run: grade verify\n"
    if step not in text:
        raise ValueError("the workflow template has no `grade verify` step")
    return text.replace(step, _CACHE_STEP.format(cache=CACHE_FILE)
                        + step.replace("grade verify", "grade verify --audit"))
