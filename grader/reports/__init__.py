"""Renderers of results: the terminal table, LMS exports, feedback files, the class report."""
