"""What a submission printed, as the judge keeps it for showing: capped, marked when cut."""

from __future__ import annotations

from grader.result import CaseResult

OUTPUT_SHOWN = 4000  # characters of the import's output kept in a result
CASE_OUTPUT_SHOWN = 2000  # characters of one failed case's output


def capped(text: object, cap: int = OUTPUT_SHOWN) -> str:
    """``text`` cut to ``cap`` characters, with a marker saying how much was left out
    (the runner's own cap adds its marker the same way)."""
    s = str(text or "")
    if len(s) <= cap:
        return s
    return s[:cap] + f"\n[... output cut: {len(s) - cap} more characters not shown]"


def with_output(cr: CaseResult, stdout: str) -> CaseResult:
    """A failed public case keeps what the function printed meanwhile (a hidden case's
    output could show its inputs: never kept)."""
    if cr.passed or cr.visibility != "public" or not stdout:
        return cr
    cr.output = capped(stdout, CASE_OUTPUT_SHOWN)
    return cr
