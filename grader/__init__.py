"""Course autograder: judge outside, run inside."""
