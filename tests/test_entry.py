"""The `grade` process ends at once after the student's command (os._exit, issue 16):
its output is complete and its exit codes are the command's."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REFERENCE, ROOT, STUB

from grader.cli.entry import _is_student_command


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_output_is_whole_and_exit_codes_are_kept():
    ok = grade("hw1", "--submission", str(REFERENCE), "--json")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)  # flushed to the last byte before the quick exit
    assert result["score"] == result["max_score"] == 100
    stub = grade("hw1", "--submission", str(STUB), "--strict", "--brief")
    assert stub.returncode == 1 and "Total: 0/" in stub.stdout
    missing = grade("hw1", "--submission", "nope.py")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [missing.stderr.strip()]
    assert "no such file" in missing.stderr


def test_only_the_student_command_exits_early():
    assert _is_student_command(["hw1", "--json"])
    assert _is_student_command(["run", "hw1"])
    for args in (["batch", "hw1", "subs"], ["export", "hw1"], ["list"], ["hw1", "--help"],
                 ["--version"], []):
        assert not _is_student_command(args), args
