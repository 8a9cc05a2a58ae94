"""Academic honesty: which submissions of a class share code beyond the starter code.

``grade similarity ASSIGNMENT SUBMISSIONS`` reads a class as ``grade batch`` does (same
layouts, roster and groups), turns each file into normalised tokens
(:mod:`.tokens`), winnowed k-gram fingerprints (:mod:`.fingerprints`), finds the pairs
that share fingerprints through an inverted index (:mod:`.index`), and measures what
each pair shares (:mod:`.pairs`): similarity, coverage of each file, longest fragment,
which graded functions match.  The starter code is subtracted, fragments common to a
large part of the class are dropped, members of one group are never compared.  Results
go to the gradebook (:mod:`.store`), a terminal table, a CSV and a side-by-side HTML
report (:mod:`.html`).  No code is sent anywhere, imported or run.
"""

from grader.similarity.run import (
    DEFAULT_COMMON,
    DEFAULT_THRESHOLD,
    Settings,
    SimilarityReport,
    check,
)

__all__ = ["DEFAULT_COMMON", "DEFAULT_THRESHOLD", "Settings", "SimilarityReport", "check"]
