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


def test_the_command_names_the_entry_knows_are_the_commands_click_has():
    from grader.cli.main import main
    from grader.cli.names import EAGER_COMMANDS, LAZY_COMMANDS

    assert set(main.commands) == set(EAGER_COMMANDS)
    assert set(main.list_commands(None)) == set(EAGER_COMMANDS) | set(LAZY_COMMANDS)  # type: ignore[arg-type]


def test_options_are_read_in_both_spellings():
    from grader.cli.names import option_value, student_command

    assert option_value(["hw1", "--course", "a", "--json"], "--course") == "a"
    assert option_value(["hw1", "--course=b"], "--course") == "b"
    assert option_value(["hw1", "--course"], "--course") is None
    assert student_command(["run", "hw1", "-v"]) == "hw1"
    assert student_command(["verify", "hw1"]) is None


def test_a_prestarted_fork_server_is_the_one_grading_takes(tmp_path):
    from grader import api

    api.prestart("hw1", ROOT)
    srv = api._PRESTARTED[(ROOT.resolve(), "hw1")]
    other = api.start_server(ROOT, "hw1", {"memory_mb": 512})  # other limits: not that one
    assert other is not srv
    other.close()
    with api.Grader(ROOT, "hw1") as g:
        assert g.server is srv and (ROOT.resolve(), "hw1") not in api._PRESTARTED
        assert g.grade(REFERENCE).full_marks
    assert srv.proc is None  # closed with the grader that took it


def test_the_student_command_works_from_another_folder_with_course(tmp_path):
    p = subprocess.run([sys.executable, "-m", "grader.cli", "hw1", "--course", str(ROOT),
                        "--submission", str(REFERENCE), "--json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["score"] == 100
