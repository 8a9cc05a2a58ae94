"""The course's rules: deadlines, late work, extensions, slip days and the course grade.

``config`` reads and checks ``course.toml``; ``clock`` finds when each submission was made;
``lateness`` turns a raw score and a time into a final score (pure functions); ``store``
keeps times and finals in the gradebook and recomputes them; ``imports`` reads the CSVs of
what the platform does not grade; ``grades`` computes the weighted course grade.
"""

from __future__ import annotations

COURSE_FILE = "course.toml"
