"""A whole class: discovering submissions, the roster, the worker pool, the run, the gradebook."""
