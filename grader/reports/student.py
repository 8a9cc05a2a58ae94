"""What a student is told about a submission that could not be graded.

The gradebook's message is written for the TA ("fix the groups and re-run"); a student's
feedback file and Gradescope output say instead what happened to *their* submission and
what they can do, chosen by the stored ``reason`` (never by parsing the TA's wording).
Messages about the file itself (empty, binary, not UTF-8, a syntax error) are already
written for the student and are shown as they are.
"""

from __future__ import annotations

from grader.batch.gradebook import SubmissionRow

# reason -> (what happened, what to do)
_BY_REASON = {
    "group": ("This submission was not graded yet because of how the groups were handed "
              "in: a group lists more members than allowed, or a student is listed in "
              "more than one submission. This is not about your code.",
              "Your TA sorts out the groups and grades it; if you know which group you "
              "were in, tell your TA."),
    "worker": ("The grader could not finish grading this submission: a problem on the "
               "grader's side, not necessarily in your code.",
               "Your TA grades it again; nothing is needed from you."),
    "deadline": ("Grading this submission took longer than a whole submission may take, "
                 "and was stopped.",
                 "Look for a function that never returns (an infinite loop, or a loop "
                 "whose condition never changes), fix it and submit again."),
}
_DEFAULT_ACTION = "Fix this and submit again: nothing of it ran, so every item scores 0."


def student_message(sub: SubmissionRow) -> str:
    """Why this submission has no score, for its student."""
    said = _BY_REASON.get(sub.reason)
    if said is None:
        return sub.message
    members = ", ".join(sub.members)
    return said[0] + (f" It lists: {members}." if sub.reason == "group" and members else "")


def student_action(sub: SubmissionRow) -> str:
    """What the student can do about it."""
    said = _BY_REASON.get(sub.reason)
    return said[1] if said is not None else _DEFAULT_ACTION
