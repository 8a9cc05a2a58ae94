"""``grade audit``: mutation analysis of an assignment's tests.

Which mistakes do the hidden tests catch?  The audit changes the reference one operator
at a time (and applies the slips the assignment declares), grades every mutant with the
real grader, and reports the mutants no case notices.  Declarations for it live in
``solutions/NAME_mutants.py`` (see :mod:`grader.audit.declared`).
"""

from grader.audit.declared import Slip

__all__ = ["Slip"]
