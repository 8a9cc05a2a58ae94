"""What a submission printed, as the judge keeps it for showing: capped, marked when cut."""

from __future__ import annotations

OUTPUT_SHOWN = 4000  # characters of one call's (or the import's) output kept in a result


def capped(text: object, cap: int = OUTPUT_SHOWN) -> str:
    """``text`` cut to ``cap`` characters, with a marker saying how much was left out
    (the runner's own cap adds its marker the same way)."""
    s = str(text or "")
    if len(s) <= cap:
        return s
    return s[:cap] + f"\n[... output cut: {len(s) - cap} more characters not shown]"
