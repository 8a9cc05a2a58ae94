"""Isolation of the runners:
the plan of layers, the fork server, one session per runner, in-process limits.
"""
