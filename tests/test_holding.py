"""A batch's results come back together, and a call that hangs or ends its process is
still charged to itself alone (grader/runner/holding.py, the judge's strict re-run)."""

from __future__ import annotations

import os
import socket
import time

from grader.protocol import wire
from grader.protocol.channel import Channel

# the sigmoid item's 13 cases run in one batch (sigmoid's and predict_proba's, whose
# sigmoid is the grader's); the 8th is sigmoid on a 2-d array
ON_2D = "_ref_sigmoid = sigmoid\n\n\ndef sigmoid(h):\n    if np.ndim(h) == 2:\n{}\n" \
        "    return _ref_sigmoid(h)\n"
EXITS = ON_2D.format("        import os\n        os._exit(0)")
HANGS = ON_2D.format("        while True:\n            pass")
HANGS_DEAF = ON_2D.format("        import signal\n"  # no timer can tell the judge
                          "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                          "        while True:\n            pass")


def sigmoid_cases(result):
    (item,) = [i for i in result.items if i.id == "sigmoid"]
    return item.cases


def test_a_call_that_ends_its_process_late_in_a_batch_is_the_only_one_charged(grade_hw1,
                                                                              variant):
    cases = sigmoid_cases(grade_hw1(variant(EXITS), items=["sigmoid"]))
    failed = [c for c in cases if not c.passed]
    assert [c.name for c in failed] == ["a 2-d array"], [(c.name, c.message) for c in cases]
    assert "died during the call" in failed[0].message
    assert len(cases) == 13


def test_a_call_that_hangs_late_in_a_batch_is_charged_and_ends_its_function(grade_hw1,
                                                                           variant):
    for text in (HANGS, HANGS_DEAF):
        cases = sigmoid_cases(grade_hw1(variant(text), items=["sigmoid"], time_scale=0.1))
        statuses = [(c.name, c.status, c.check) for c in cases if not c.passed]
        assert len(cases) == 13 and cases[7].name == "a 2-d array", statuses
        assert cases[7].status == "timeout", statuses
        assert [c.name for c in cases if not c.passed] == [
            "a 2-d array", "a float32 array", "|h| from 700 to 1e4", "h = -1e4"], statuses
        assert all(c.check == "not run" for c in cases[8:11]), statuses


class _CountingSocket:
    """A socket that counts its writes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.writes = sock, 0

    def sendall(self, data: bytes) -> None:
        self.writes += 1
        self.sock.sendall(data)

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


SOURCE = "import time\n\ndef same(x):\n    return x\n\ndef slow(x):\n    time.sleep(0.3)\n" \
         "    return x\n"


def _runner_writes(batches: list[tuple[list[str], bool]]) -> tuple[int, list[dict]]:
    """Serve ``batches`` ((function names, hold)) with a real runner in a child process:
    how many writes its socket took (after loading), and the frames the judge read."""
    judge_end, runner_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the runner
        code = 99
        try:
            from grader.runner.calls import Runner  # here only: check() tells by the import

            judge_end.close()
            counting = _CountingSocket(runner_end)
            Runner(Channel(counting)).serve()  # type: ignore[arg-type]
            code = counting.writes
        finally:
            os._exit(code)
    runner_end.close()
    ch, frames = Channel(judge_end), []
    ch.send({"op": "load", "code": SOURCE, "filename": "s.py", "module": "s", "timeout": 10})
    assert ch.recv(time.monotonic() + 30)["status"] == "ok"
    for names, hold in batches:
        ch.send({"op": "calls", "hold": hold, "calls": [
            {"func": n, "args": [wire.pack_value(wire.encode(k))]} for k, n in enumerate(names)]})
        while not frames or frames[-1].get("index") != len(names) - 1 \
                or frames[-1]["op"] != "result":
            frame = ch.recv(time.monotonic() + 30)
            if frame["op"] == "results":  # held results, in one frame: one entry each
                frames += [{**r, "op": "result", "frame": len(frames)}
                           for r in wire.unpack_value(frame["body"])]
            else:
                frames.append(frame)
    ch.send({"op": "exit"})
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) - 1, frames  # the load's reply is one write


def test_a_batch_results_go_in_one_write_and_a_slow_call_lets_them_go():
    writes, frames = _runner_writes([(["same"] * 6, True)])
    assert writes == 1 and [f["index"] for f in frames] == list(range(6))
    assert {f.get("frame") for f in frames} == {0}  # one frame for the six
    writes, _ = _runner_writes([(["same"] * 6, False)])
    assert writes == 6  # asked to send them as they come
    # a call that runs past the timer: what was held goes, naming the call that runs;
    # the rest come one by one
    writes, frames = _runner_writes([(["same", "same", "slow", "same"], True)])
    assert [(f["op"], f.get("index")) for f in frames] == [
        ("result", 0), ("result", 1), ("running", 2), ("result", 2), ("result", 3)]
    assert writes == 3


def test_a_send_to_a_runner_that_stops_reading_is_a_timeout(monkeypatch):
    """A runner that stops reading fills its socket; the judge's send gives up after
    SEND_TIMEOUT (the kernel's send timeout, or a timed socket where there is none) and
    says timeout, not a closed channel."""
    import pytest

    from grader.protocol.channel import ChannelTimeout
    from grader.sandbox import session as session_mod

    monkeypatch.setattr(session_mod, "SEND_TIMEOUT", 0.2)
    for bounded in (True, False):
        if not bounded:
            monkeypatch.setattr(session_mod, "_bound_sends", lambda sock: False)
        judge_end, runner_end = socket.socketpair()
        s = session_mod.Session(Channel(judge_end), 0, killer=lambda pid: None, pidns=True)
        assert s.bounded is bounded
        t = time.monotonic()
        with pytest.raises(ChannelTimeout):
            s.send({"op": "exit", "blob": b"x" * 8_000_000})
        assert time.monotonic() - t < 5  # never the ten seconds of the real limit
        s.kill()
        runner_end.close()


def test_a_batch_that_comes_back_as_before_keeps_its_verdicts_one_that_differs_does_not(
        server, variant):
    """A whole batch's results in one frame, byte for byte as an earlier submission's
    that passed: the verdicts after the first call's are the ones kept, with no result
    read; one result different (xi5 on a matrix) and the batch is judged call by call,
    that case failing."""
    from conftest import REFERENCE, ROOT

    from grader.api import load_assignment
    from grader.course.submission import load_source
    from grader.judge.judge import Judge
    from grader.judge.memory import Memory

    a = load_assignment("hw1", ROOT)
    a.memo = None
    judge = Judge(a, server)  # type: ignore[arg-type]
    looked: list[int] = []
    lookup = Memory.verdict

    def counted(self: Memory, key: object) -> object:
        looked.append(1)
        return lookup(self, key)  # type: ignore[arg-type]

    Memory.verdict = counted  # type: ignore[method-assign]
    try:
        first = judge.grade(load_source(REFERENCE))
        cold = len(looked)
        looked.clear()
        second = judge.grade(load_source(REFERENCE))
        assert second.to_json()["items"] == first.to_json()["items"] and second.full_marks
        assert judge.memory.batches and len(looked) < cold / 2, (len(looked), cold)
        wrong = judge.grade(load_source(variant(
            "_ref_xi5 = xi5\n"
            "def xi5(xi4):\n"
            "    return -_ref_xi5(xi4) if np.ndim(xi4) == 2 else _ref_xi5(xi4)\n")),
            ["elementary"])
    finally:
        Memory.verdict = lookup  # type: ignore[method-assign]
    (item,) = wrong.items
    assert [c.name for c in item.cases if not c.passed] == ["xi5 on a matrix"]
