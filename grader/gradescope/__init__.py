"""Gradescope as a front end: the autograder zip, and what it runs for each submission.

- :mod:`.bundle` builds the zip (``grade gradescope ASSIGNMENT --out autograder.zip``);
- :mod:`.find` finds the file to grade in ``/autograder/submission``;
- :mod:`.results` turns a :class:`~grader.result.Result` into ``results.json``;
- :mod:`.run` is what ``run_autograder`` runs (``python -m grader.gradescope.run``).
"""
