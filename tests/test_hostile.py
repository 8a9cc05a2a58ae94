"""Hostile submissions: each computes some items honestly and attacks with the rest.

Every case is the reference with an attacking ``perceptron`` (or module-level code)
appended, graded on ``perceptron`` and ``loss``.  Each asserts the exact outcome: the
attacked item scores 0 with its status and a message that says what happened, the honest
item keeps full marks (so the grader went on, in a fresh runner where needed), the
judge's files are untouched, no process is left behind, and it all ends in bounded time.

Layers differ by machine (``grade doctor``): cases that only bubblewrap can stop (the
network, world-readable files) skip without it; cases that need the uid switch or
RLIMIT_NPROC skip where the grader runs as root with it turned off.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE, ROOT

SCALE = 0.1          # hw1's per-call limit of 10 s becomes 1 s: for attacks that must time out
ROOMY = 3.0          # 30 s a call: attacks whose outcome is an error, even on a busy machine
BOUND = 90.0         # seconds any one hostile grading may take, everything included (a hang guard)
HONEST = "loss"      # the item every hostile submission computes honestly (6 points)
DIED = "died during the call"


# ----------------------------------------------------------------------------- helpers


def by_id(result: Any) -> dict[str, Any]:
    return {i.id: i for i in result.items}


def layer_flags(server: Any) -> dict[str, bool]:
    plan = server.plan
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return {"bwrap": bool(plan and plan.bwrap),
            "uid": bool(plan and plan.drop),
            "nproc": sys.platform.startswith("linux") and (not root or bool(plan and plan.drop)),
            "files": bool(plan and (plan.bwrap or plan.drop))}


@pytest.fixture(scope="module")
def flags(server: Any) -> dict[str, bool]:
    return layer_flags(server)


def need(flags: dict[str, bool], *names: str) -> None:
    missing = [n for n in names if not flags[n]]
    if missing:
        pytest.skip(f"needs the {', '.join(missing)} layer (see `grade doctor`)")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc), however deep."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def runners(server: Any) -> set[int]:
    """The fork server's runners (and anything they started), on the host."""
    if server.proc is None:
        return set()
    depth = 2 if server.plan is not None and server.plan.bwrap else 0  # bwrap, its init
    level = {server.proc.pid}
    for _ in range(depth + 1):
        level = set().union(*(children(p) for p in level)) if level else set()
    return set().union(level, *(descendants(p) for p in level))


def children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


@pytest.fixture
def hostile(grade_hw1: Callable[..., Any], variant: Callable[..., Path],
            server: Any) -> Callable[..., Any]:
    """grade(reference + code) on perceptron and loss, bounded in time, leaving no process."""
    linux = sys.platform.startswith("linux")

    def run(code: str, items: tuple[str, ...] = ("perceptron", HONEST), **kw: Any) -> Any:
        kw.setdefault("time_scale", ROOMY)
        t = time.monotonic()
        r = grade_hw1(variant(code), items=list(items), **kw)
        assert time.monotonic() - t < BOUND
        if linux:  # every runner, and anything it started, is gone
            deadline = time.monotonic() + 3
            while runners(server) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not runners(server)
        return r

    return run


def outcome(r: Any, attacked: str, status: str, *messages: str) -> None:
    """The attacked item: 0 points, this status, these words; the honest one: full marks."""
    it = by_id(r)
    a = it[attacked]
    assert (a.score, a.status) == (0, status), (a.status, a.feedback)
    for m in messages:
        assert m in a.feedback, (m, a.feedback)
    h = it[HONEST]
    assert (h.score, h.status) == (h.max_score, "passed") and h.max_score == 6, h.feedback


# ----------------------------------------------------------------------------- the judge's files


@pytest.fixture(scope="module")
def judge_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What only the judge may read or write: a solutions/ copy, a gradebook, a result."""
    d = tmp_path_factory.mktemp("judge-side")
    os.chmod(d, 0o700)
    (d / "solutions").mkdir()
    (d / "solutions" / "hw1.py").write_text(REFERENCE.read_text(encoding="utf-8"))
    (d / "solutions" / "canary.txt").write_text("the hidden cases live here\n")
    (d / "gradebook.csv").write_text("student,score\nalice,71.5\n")
    (d / "results").mkdir()
    (d / "results" / "alice.json").write_text(json.dumps({"student": "alice", "score": 71.5}))
    return d


def snapshot(d: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        data = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        out[str(p.relative_to(d))] = (st.st_mode, data)
    out["."] = (d.lstat().st_mode, "")
    return out


def targets(judge_files: Path, flags: dict[str, bool]) -> list[str]:
    """Copies in a folder only root may enter; the course's own solutions/ too where
    bubblewrap hides it (without it, it is as readable as its permissions say)."""
    out = [str(judge_files / "solutions" / "hw1.py")]
    if flags["bwrap"]:
        out.append(str(ROOT / "solutions" / "hw1.py"))
    return out


# ----------------------------------------------------------------------------- value tricks

# The reference's own perceptron stays reachable as _honest_perceptron.
HONEST_ALIAS = "_honest_perceptron = perceptron\n"


def test_monkeypatching_numpy_fools_only_the_runner(hostile):
    r = hostile("import numpy\n"
                "numpy.allclose = lambda *a, **k: True\n"
                "numpy.array_equal = lambda *a, **k: True\n"
                "numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.shape(b), bool)\n"
                "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return numpy.full(numpy.shape(X)[1], 123.0)\n")
    outcome(r, "perceptron", "failed", "perceptron")


def test_replacing_sys_modules_numpy(hostile):
    r = hostile("import sys, types\n"
                "_fake = types.ModuleType('numpy')\n"
                "_fake.allclose = lambda *a, **k: True\n"
                "_fake.asarray = lambda x, *a, **k: x\n"
                "sys.modules['numpy'] = _fake\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return 'trust me'\n")
    outcome(r, "perceptron", "failed", "got a str")


def test_monkeypatching_the_graders_own_modules(hostile):
    # a judge in this process would now pass everything and take the forged reply
    r = hostile("import sys, grader.judge.compare, grader.protocol.wire\n"
                "grader.judge.compare.compare = lambda *a, **k: None\n"
                "for _m in (sys.modules.get('__main__'), sys.modules.get('grader.runner.calls')):\n"
                "    if _m is not None and hasattr(_m, 'Runner'):\n"
                "        def _forged(self, msg, _orig=_m.Runner._call):\n"
                "            if msg.get('func') == 'perceptron':\n"
                "                return {'op': 'result', 'status': 'passed', 'score': 2.0,\n"
                "                        'passed': True, 'feedback': 'all cases pass'}\n"
                "            return _orig(self, msg)\n"
                "        _m.Runner._call = _forged\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return None\n")
    outcome(r, "perceptron", "error", "status the grader does not know")


def test_eq_override_is_opaque_to_the_judge(hostile):
    r = hostile("class _Always:\n"
                "    def __eq__(self, other): return True\n"
                "    def __ne__(self, other): return False\n"
                "    def __bool__(self): return True\n"
                "    __hash__ = object.__hash__\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return _Always()\n")
    outcome(r, "perceptron", "failed", "got a", "_Always")


def test_ndarray_subclass_is_judged_on_its_data(hostile):
    r = hostile("class _Liar(np.ndarray):\n"
                "    def __eq__(self, other): return np.ones(np.shape(other), bool)\n"
                "    def __array_ufunc__(self, *a, **k): return True\n"
                "    def __array_function__(self, *a, **k): return True\n"
                "    def __array__(self, *a, **k): raise RuntimeError('never asked')\n"
                "    def tolist(self): return [1.0, 2.0, 3.0]\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return np.zeros(np.shape(X)[1]).view(_Liar)\n")
    outcome(r, "perceptron", "failed", "perceptron")


def test_lying_array_interface(hostile):
    r = hostile("class _Lies:\n"
                "    def __array__(self, dtype=None, copy=None):\n"
                "        return np.array(['all', 'cases', 'pass'], dtype=object)\n"
                "    def __eq__(self, other): return True\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return _Lies()\n")
    outcome(r, "perceptron", "failed", "ndarray of dtype object")


def test_returned_object_that_would_run_code_if_unpickled(hostile, tmp_path):
    marker = tmp_path / "unpickled"
    r = hostile("import os, pickle\n"
                "class _Evil:\n"
                "    def __reduce__(self):\n"
                f"        return (os.system, ('touch {marker}',))\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return [_Evil(), pickle.dumps(_Evil())]\n")
    outcome(r, "perceptron", "failed")
    assert not marker.exists()


def test_random_generator_with_a_forged_state(hostile):
    r = hostile("class _Bits(np.random.PCG64):\n"
                "    @property\n"
                "    def state(self):\n"
                "        return {'bit_generator': 'PCG64', 'state': 'not a state', 'x': [1]}\n"
                "def perceptron(X, y, n_epochs):\n"
                "    return np.random.Generator(_Bits())\n")
    outcome(r, "perceptron", "error", "perceptron")


@pytest.mark.parametrize("value, message", [
    ("nested = []\n    for _ in range(100_000):\n        nested = [nested]\n    return nested",
     "too deeply nested"),
    ("return [0.5] * 2_100_000", "too large"),
    ("return 10 ** 100_000", "cannot be sent"),
])
def test_values_too_big_to_send(hostile, value, message):
    r = hostile(f"def perceptron(X, y, n_epochs):\n    {value}\n")
    outcome(r, "perceptron", "error", message)


# ----------------------------------------------------------------------------- exits


def test_sys_exit_inside_a_function(hostile):
    r = hostile("import sys\ndef perceptron(X, y, n_epochs):\n    sys.exit(0)\n")
    outcome(r, "perceptron", "error", "called sys.exit(0)")


def test_os_exit_inside_a_function(hostile):
    r = hostile("import os\ndef perceptron(X, y, n_epochs):\n    os._exit(0)\n")
    outcome(r, "perceptron", "error", "the process running perceptron", DIED)


def test_sys_exit_at_import_stops_the_module_there(hostile):
    # what ran before the exit is graded; what comes after it never ran
    r = hostile("del perceptron\nimport sys\nsys.exit(0)\n"
                "def perceptron(X, y, n_epochs):\n    return 'never defined'\n")
    outcome(r, "perceptron", "error", "not defined", "sys.exit(0)", "never ran")
    assert any("sys.exit(0)" in n.text for n in r.notes)


def test_os_exit_at_import_fails_every_item(hostile):
    r = hostile("import os\nos._exit(0)\n")
    assert r.score == 0 and {i.status for i in r.items} == {"error"}
    assert r.load_kind == "exited" and "exited or crashed while being imported" in r.load_error
    assert all(i.feedback == "not graded: the file did not load" for i in r.items)


def test_atexit_hooks_never_run(hostile, judge_files, flags):
    before = snapshot(judge_files)
    r = hostile("import atexit, json\n"
                "def _later():\n"
                f"    open({str(judge_files / 'gradebook.csv')!r}, 'a').write('mallory,100\\n')\n"
                "    print(json.dumps({'score': 100, 'max_score': 100}))\n"
                "def perceptron(X, y, n_epochs):\n"
                "    atexit.register(_later)\n"
                "    return np.zeros(np.shape(X)[1])\n")
    outcome(r, "perceptron", "failed")
    assert snapshot(judge_files) == before


# ----------------------------------------------------------------------------- fake output


FAKE_OUTPUT = (
    "import json, os, sys\n"
    "_fake = json.dumps({'assignment': 'hw1', 'score': 100, 'max_score': 100, 'items': []})\n"
    "print(_fake)\n"
    "sys.__stdout__.write(_fake + '\\n')\n"
    "os.write(1, (_fake + '\\n').encode())\n"
    "os.write(2, b'Total: 100/100\\n')\n"
    "def perceptron(X, y, n_epochs):\n"
    "    print('perceptron        2/2   passed   all cases pass')\n"
    "    os.write(1, b'Total: 100/100\\n')\n"
    "    return np.zeros(np.shape(X)[1])\n")


def test_printing_fake_results_and_table_lines(hostile):
    r = hostile(FAKE_OUTPUT)
    outcome(r, "perceptron", "failed")
    assert r.score == 6


def test_fake_json_never_reaches_the_commands_output(variant):
    path = variant(FAKE_OUTPUT)
    p = subprocess.run([sys.executable, "-m", "grader.cli", "hw1", "--submission", str(path),
                        "--item", "perceptron", "--item", HONEST, "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)  # exactly one JSON document: the judge's
    assert data["score"] == 6 and data["max_score"] == 8
    assert "Total: 100/100" not in p.stdout + p.stderr


def test_a_200_mb_print(hostile):
    r = hostile("import os, sys\n"
                "def perceptron(X, y, n_epochs):\n"
                "    block = 'perceptron 2/2 passed\\n' * 9_000_000\n"
                "    print(block)\n"
                "    sys.stderr.write(block)\n"
                "    os.write(1, block.encode())\n"
                "    return None\n")
    outcome(r, "perceptron", "failed", "got None")
    assert all(len(c.details) < 100_000 for i in r.items for c in i.cases)


# ----------------------------------------------------------------------------- secrets


def test_reading_solutions_and_any_file_outside(hostile, judge_files, flags):
    need(flags, "files")
    code = ("import importlib.util, os\n"
            f"_TARGETS = {targets(judge_files, flags)!r}\n"
            "def perceptron(X, y, n_epochs):\n"
            "    failed = []\n"
            "    for path in _TARGETS:\n"
            "        try:\n"
            "            spec = importlib.util.spec_from_file_location('_stolen', path)\n"
            "            ref = importlib.util.module_from_spec(spec)\n"
            "            spec.loader.exec_module(ref)\n"
            "            return ref.perceptron(X, y, n_epochs)  # the reference's own answer\n"
            "        except Exception as e:\n"
            "            failed.append(type(e).__name__)\n"
            "    for path in ('/etc/shadow', os.path.expanduser('~root/.bash_history')):\n"
            "        try:\n"
            "            open(path).read(1)\n"
            "            return 'read ' + path\n"
            "        except Exception as e:\n"
            "            failed.append(type(e).__name__)\n"
            "    raise PermissionError('could not read: ' + ', '.join(failed))\n")
    r = hostile(code)
    outcome(r, "perceptron", "error", "could not read")


def test_walking_frames_and_gc_for_expected_values(hostile):
    r = hostile("import gc, sys\n"
                "def perceptron(X, y, n_epochs):\n"
                "    found = []\n"
                "    f = sys._getframe()\n"
                "    while f is not None:\n"
                "        found += [v for k, v in f.f_locals.items() if k in ('expected', 'ref')]\n"
                "        f = f.f_back\n"
                "    for o in gc.get_objects():\n"
                "        if isinstance(o, dict) and isinstance(o.get('expected'), np.ndarray):\n"
                "            found.append(o['expected'])\n"
                "        elif type(o).__name__ in ('PreparedCase', 'Case', 'Assignment'):\n"
                "            found.append(getattr(o, 'expected', o))\n"
                "    if not found:\n"
                "        raise LookupError('no expected values in this process')\n"
                "    return found[0]\n")
    outcome(r, "perceptron", "error", "no expected values in this process")


# ----------------------------------------------------------------------------- damage


def test_writing_and_deleting_the_judges_files(hostile, judge_files, flags):
    need(flags, "files")
    before = snapshot(judge_files)
    j = judge_files
    r = hostile("import os, shutil\n"
                "def perceptron(X, y, n_epochs):\n"
                "    done, failed = [], []\n"
                "    def attempt(label, fn):\n"
                "        try:\n"
                "            fn()\n"
                "            done.append(label)\n"
                "        except Exception as e:\n"
                "            failed.append(f'{label}: {type(e).__name__}')\n"
                f"    attempt('gradebook', lambda: open({str(j / 'gradebook.csv')!r}, 'a')"
                ".write('mallory,100\\n'))\n"
                f"    attempt('result', lambda: open({str(j / 'results' / 'alice.json')!r}, 'w')"
                ".write('{{}}'))\n"
                f"    attempt('canary', lambda: os.remove({str(j / 'solutions' / 'canary.txt')!r}))\n"
                f"    attempt('solutions', lambda: shutil.rmtree({str(j / 'solutions')!r}))\n"
                f"    attempt('new file', lambda: open({str(j / 'planted.py')!r}, 'w').write('x'))\n"
                f"    attempt('chmod', lambda: os.chmod({str(j)!r}, 0o777))\n"
                "    if done:\n"
                "        return 'changed: ' + ', '.join(done)\n"
                "    raise PermissionError('nothing changed: ' + '; '.join(failed))\n")
    outcome(r, "perceptron", "error", "nothing changed")
    assert snapshot(judge_files) == before


def test_files_a_submission_leaves_never_reach_the_judge_or_the_next(hostile, variant, flags):
    """Planted modules (sitecustomize, numpy.py, caches) stay in the runner's scratch
    folder, which is wiped before the next submission and is never on the judge's path."""
    need(flags, "files")
    names = ("sitecustomize.py", "usercustomize.py", "numpy.py", "grader.py", "note.txt")
    plant = ("import os, tempfile\n"
             "def perceptron(X, y, n_epochs):\n"
             "    where = {os.getcwd(), os.path.expanduser('~'), tempfile.gettempdir()}\n"
             "    for d in where:\n"
             f"        for n in {names!r}:\n"
             "            try:\n"
             "                open(os.path.join(d, n), 'w').write('raise SystemExit(3)\\n')\n"
             "                os.makedirs(os.path.join(d, '__pycache__'), exist_ok=True)\n"
             "            except OSError:\n"
             "                pass\n"
             "    return None\n")
    outcome(hostile(plant), "perceptron", "failed")
    look = ("import os, tempfile\n"
            "def perceptron(X, y, n_epochs):\n"
            "    where = {os.getcwd(), os.path.expanduser('~'), tempfile.gettempdir()}\n"
            f"    left = [n for d in where for n in {names!r} if os.path.exists(os.path.join(d, n))]\n"
            "    if left:\n"
            "        raise FileExistsError('the last submission left ' + ', '.join(left))\n"
            "    return _honest_perceptron(X, y, n_epochs)\n")
    r = hostile(HONEST_ALIAS + look)
    assert by_id(r)["perceptron"].status == "passed", by_id(r)["perceptron"].feedback
    for d in (ROOT, Path.cwd(), Path(sys.prefix)):
        assert not any((d / n).exists() for n in names[:4])


def test_opening_sockets(hostile, flags):
    need(flags, "bwrap")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    accepted: list[Any] = []

    def accept() -> None:
        end = time.monotonic() + 10
        while time.monotonic() < end and not stop.is_set():
            try:
                accepted.append(listener.accept())
            except OSError:
                pass

    stop = threading.Event()
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        r = hostile("import socket\n"
                    "def perceptron(X, y, n_epochs):\n"
                    "    errors = []\n"
                    f"    for host in (('127.0.0.1', {port}), ('1.1.1.1', 53), ('8.8.8.8', 443)):\n"
                    "        try:\n"
                    "            socket.create_connection(host, timeout=0.3).sendall(b'leak')\n"
                    "            return 'connected to %s' % (host,)\n"
                    "        except OSError as e:\n"
                    "            errors.append(str(e))\n"
                    "    raise ConnectionError('; '.join(errors))\n")
    finally:
        stop.set()
        t.join()
        listener.close()
    outcome(r, "perceptron", "error", "ConnectionError")
    assert not accepted


# ----------------------------------------------------------------------------- processes


def test_forking_and_subprocesses(hostile, flags):
    need(flags, "nproc")
    r = hostile("import os, subprocess\n"
                "def perceptron(X, y, n_epochs):\n"
                "    try:\n"
                "        subprocess.run(['true'])\n"
                "    except OSError:\n"
                "        pass\n"
                "    if os.fork() == 0:\n"
                "        os._exit(0)\n"
                "    return None\n")
    outcome(r, "perceptron", "error", "BlockingIOError", "Resource temporarily unavailable")


def test_fork_bomb(hostile, flags):
    need(flags, "nproc")
    r = hostile("import os\n"
                "def perceptron(X, y, n_epochs):\n"
                "    while True:\n"
                "        try:\n"
                "            if os.fork() == 0:\n"
                "                while True:\n"
                "                    os.fork()\n"
                "        except OSError:\n"
                "            pass\n", time_scale=SCALE)
    outcome(r, "perceptron", "timeout", "did not finish within 1 s")


def test_a_thread_that_outlives_its_call(hostile):
    r = hostile(HONEST_ALIAS + "import threading, time\n"
                "def _spin():\n"
                "    while True:\n"
                "        time.sleep(0.001)\n"
                "def perceptron(X, y, n_epochs):\n"
                "    threading.Thread(target=_spin, daemon=True).start()\n"
                "    return _honest_perceptron(X, y, n_epochs)\n", )
    a = by_id(r)["perceptron"]
    assert (a.score, a.status) == (0, "error")
    assert "can't start new thread" in a.feedback or "thread running" in a.feedback
    assert by_id(r)[HONEST].status == "passed"


def test_killing_the_fork_server_and_everything_else(hostile, flags):
    need(flags, "uid")
    r = hostile("import os, signal\n"
                "def perceptron(X, y, n_epochs):\n"
                "    for pid in (os.getppid(), 1, -1):\n"
                "        try:\n"
                "            os.kill(pid, signal.SIGKILL)\n"
                "        except OSError:\n"
                "            pass\n"
                "    return None\n")
    # kill(-1) takes the runner itself: whatever it hit, the grader goes on
    a = by_id(r)["perceptron"]
    assert a.score == 0 and a.status in ("error", "failed")
    assert by_id(r)[HONEST].status == "passed"


# ----------------------------------------------------------------------------- resources


@pytest.mark.parametrize("bomb", [
    "return np.ones((100_000, 100_000))",                            # 80 GB at once
    "hoard = []\n    while True:\n        hoard.append(b'x' * 100_000_000)",  # 100 MB a time
])
def test_memory_bomb(hostile, bomb):
    r = hostile(f"def perceptron(X, y, n_epochs):\n    {bomb}\n")
    outcome(r, "perceptron", "error", "MemoryError")


def test_infinite_loop_that_ignores_sigterm(hostile):
    r = hostile("import signal\n"
                "def perceptron(X, y, n_epochs):\n"
                "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                "        signal.signal(s, signal.SIG_IGN)\n"
                "    while True:\n"
                "        pass\n", time_scale=SCALE)
    outcome(r, "perceptron", "timeout", "did not finish within 1 s")


def test_recursion_bomb(hostile):
    r = hostile("def perceptron(X, y, n_epochs):\n    return perceptron(X, y, n_epochs)\n")
    outcome(r, "perceptron", "error", "RecursionError")


def test_recursion_past_the_c_stack(hostile):
    # __getattr__ recurses through C: with the recursion limit lifted, the C stack
    # overflows and the runner dies of SIGSEGV
    r = hostile("import sys\n"
                "class _Bottomless:\n"
                "    def __getattr__(self, name):\n"
                "        return getattr(self, name)\n"
                "def perceptron(X, y, n_epochs):\n"
                "    sys.setrecursionlimit(10 ** 8)\n"
                "    return _Bottomless().weights\n")
    outcome(r, "perceptron", "error", DIED)


# ----------------------------------------------------------------------------- the channel


RAW = ("import gc, msgpack, socket, struct, sys\n"
       "def _nonce():  # the nonce of the request being served, read off the runner's stack\n"
       "    f = sys._getframe()\n"
       "    while f is not None:\n"
       "        m = f.f_locals.get('msg')\n"
       "        if isinstance(m, dict) and 'nonce' in m:\n"
       "            return m['nonce']\n"
       "        f = f.f_back\n"
       "def _frame(body):\n"
       "    return struct.pack('>I', len(body)) + body\n"
       "def _pack(message):  # a well-formed frame, as the runner writes them\n"
       "    return _frame(msgpack.packb(message))\n"
       "def _sock(_found=[]):\n"
       "    if not _found:\n"
       "        _found.append(next(o for o in gc.get_objects()\n"
       "                           if isinstance(o, socket.socket) and o.fileno() >= 0))\n"
       "    return _found[0]\n")


@pytest.mark.parametrize("payload", [
    "_frame(b'\\x91' * 200_000 + b'\\xc0')",                               # nesting bomb
    "struct.pack('>I', 2 ** 31) + b'x' * 1000",                          # oversized frame
    "_frame(b'\\xc1\\xff not msgpack')",                                 # garbage
    ("_pack({'op': 'result', 'status': 'ok', 'nonce': _nonce(), 'index': 0,"
     " 'value': msgpack.packb({'__rng__': {'bit_generator': 'PCG64', 'state': 7}})})"),
    ("_pack({'op': 'result', 'status': 'ok', 'nonce': _nonce(), 'index': 0, 'warnings': 5,"
     " 'stdout': [1], 'error': 3, 'value': msgpack.packb({'__nd__': ['<f8', [10 ** 6],"
     " b'AAAA']})})"),
    ("_pack({'op': 'result', 'status': 'passed', 'nonce': _nonce(), 'index': 0, 'score': 2,"
     " 'value': msgpack.packb([[[[]]]] * 10)})"),
    ("_pack({'op': 'result', 'status': 'ok', 'nonce': _nonce(), 'index': 0,"
     " 'value': msgpack.packb({'__int__': '1' + '0' * 6000})})"),
    "_pack({'op': 'result', 'status': 'ok', 'nonce': _nonce(), 'index': 0, 'value': 'text'})",
])
def test_raw_frames_on_the_runners_socket(hostile, payload):
    """The runner's socket is the submission's to write, even a reply with the right nonce:
    whatever it writes is only data, read with caps, and it can cost only that item."""
    r = hostile(RAW + "def perceptron(X, y, n_epochs):\n"
                      f"    _sock().sendall({payload})\n"
                      "    return None\n")
    a = by_id(r)["perceptron"]
    assert a.score == 0 and a.status in ("error", "failed"), a.feedback
    assert by_id(r)[HONEST].status == "passed"


def test_replies_forged_ahead_are_dropped(hostile):
    # each request carries a fresh random nonce: a frame written before the request
    # arrives cannot pass for its reply, so these forgeries change nothing
    r = hostile(HONEST_ALIAS + RAW +
                "def perceptron(X, y, n_epochs):\n"
                "    for guess in range(1, 200):\n"
                "        for op in ('result', 'loaded', 'given', 'invoked'):\n"
                "            _sock().sendall(_pack({'op': op, 'nonce': guess, 'index': 0,"
                " 'status': 'ok', 'value': msgpack.packb(0.0)}))\n"
                "    return _honest_perceptron(X, y, n_epochs)\n")
    assert by_id(r)["perceptron"].status == "passed"
    assert by_id(r)[HONEST].status == "passed"


# ----------------------------------------------------------------------------- fallbacks


@pytest.fixture(scope="module")
def plain_server() -> Any:
    """No bubblewrap: the uid switch (as root) and the rlimits alone."""
    from grader.sandbox.forkserver import ForkServer
    from grader.sandbox.plan import Isolation

    srv = ForkServer(("numpy",), course=ROOT, isolation=Isolation(bwrap=False))
    yield srv
    srv.close()


def test_without_bubblewrap_the_uid_and_rlimits_still_hold(plain_server, variant, judge_files):
    from grader.api import grade

    flags = layer_flags(plain_server)
    need(flags, "uid")
    before = snapshot(judge_files)
    code = ("import os\n"
            "def perceptron(X, y, n_epochs):\n"
            "    errors = []\n"
            f"    for path in {targets(judge_files, flags)!r}:\n"
            "        try:\n"
            "            open(path, 'a').write('x')\n"
            "        except OSError as e:\n"
            "            errors.append(type(e).__name__)\n"
            "    try:\n"
            "        os.fork()\n"
            "    except OSError as e:\n"
            "        errors.append(type(e).__name__)\n"
            "    raise PermissionError(' '.join(errors))\n")
    r = grade(variant(code), "hw1", course=ROOT, server=plain_server,
              items=["perceptron", HONEST], time_scale=ROOMY)
    outcome(r, "perceptron", "error", "PermissionError BlockingIOError")
    assert snapshot(judge_files) == before
    ref = grade(REFERENCE, "hw1", course=ROOT, server=plain_server, items=["perceptron", HONEST])
    assert ref.score == ref.max_score == 8


def test_memory_watch_kills_where_rlimit_as_is_not_enforced(variant):
    """macOS ignores RLIMIT_AS: there the judge watches the runner's memory and kills it."""
    from grader.api import grade
    from grader.sandbox.forkserver import ForkServer
    from grader.sandbox.plan import Isolation

    with ForkServer(("numpy",), {"memory_mb": 400}, course=ROOT,
                    isolation=Isolation(bwrap=False, memory_watch=True)) as srv:
        code = ("def perceptron(X, y, n_epochs):\n"
                "    hoard = []\n"
                "    for _ in range(40):\n"
                "        hoard.append(np.ones(12_500_000))\n"  # 100 MB each, touched
                "    return None\n")
        r = grade(variant(code), "hw1", course=ROOT, server=srv,
                  items=["perceptron", HONEST], time_scale=ROOMY)
    outcome(r, "perceptron", "error", DIED)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap is Linux only")
def test_a_broken_bubblewrap_falls_back_to_the_other_layers(tmp_path, monkeypatch):
    from grader.api import grade
    from grader.sandbox import plan
    from grader.sandbox.forkserver import ForkServer

    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(plan, "bwrap_path", lambda: str(fake))
    with ForkServer(("numpy",), course=ROOT, isolation=plan.Isolation(bwrap=True)) as srv:
        r = grade(REFERENCE, "hw1", course=ROOT, server=srv, items=[HONEST])
        assert r.score == r.max_score == 6
        assert srv.plan is not None and not srv.plan.bwrap
        why = dict(srv.inactive)["bubblewrap"]
        assert "failed to start" in why and "No permissions to create new namespace" in why


# ----------------------------------------------------------------------------- grade doctor


def test_doctor_reports_the_layers_a_probe_confirms():
    from grader.cli.doctor import diagnose
    from grader.sandbox.plan import bwrap_path, is_root

    report = diagnose(ROOT)
    active = {a["layer"] for a in report["active"]}
    inactive = {a["layer"]: a["why"] for a in report["inactive"]}
    probe = report["probe"]
    assert "separate process" in active and "wall clock" in active and "output cap" in active
    assert ("bubblewrap" in active) != ("bubblewrap" in inactive)
    if is_root():
        assert "unprivileged user" in active and probe["uid"] == 65534
    if sys.platform.startswith("linux"):
        assert probe["fork"].startswith("refused") and probe["thread"].startswith("refused")
        assert probe["limits"]["AS"] == 2048 * 2**20 and probe["limits"]["NPROC"] == 0
    if "bubblewrap" in active:
        assert bwrap_path() is not None
        assert probe["network"].startswith("refused") and not probe["course_visible"]
        assert probe["read_secret"].startswith("refused") and not report["warnings"]
    else:
        assert inactive["bubblewrap"]


def test_doctor_command():
    p = subprocess.run([sys.executable, "-m", "grader.cli", "doctor"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    assert "Active layers:" in p.stdout and "Probe" in p.stdout and "fork:" in p.stdout


def test_where_threads_can_start_one_left_running_ends_its_runner(variant):
    """macOS and Windows have no RLIMIT_NPROC for threads: the runner checks after the call."""
    from grader.api import grade
    from grader.sandbox.forkserver import ForkServer

    with ForkServer(("numpy",), {"processes": -1}, course=ROOT) as srv:
        code = (HONEST_ALIAS + "import threading, time\n"
                "def _spin():\n"
                "    while True:\n"
                "        time.sleep(0.001)\n"
                "def perceptron(X, y, n_epochs):\n"
                "    threading.Thread(target=_spin, daemon=True).start()\n"
                "    return _honest_perceptron(X, y, n_epochs)\n")
        r = grade(variant(code), "hw1", course=ROOT, server=srv, items=["perceptron", HONEST],
                  time_scale=ROOMY)
    outcome(r, "perceptron", "error", "left 1 thread running")


@pytest.mark.parametrize("mess", [
    # a tree deeper than a path may be long
    ("import os\n    os.makedirs('deep', exist_ok=True)\n    os.chdir('deep')\n"
    "    for _ in range(3000):\n        os.mkdir('d')\n        os.chdir('d')\n"
    "    open('x', 'w').write('left for the next one')"),
    # a folder nobody may enter, holding a file
    ("import os\n    os.makedirs('locked/inner')\n    open('locked/inner/x', 'w').write('x')\n"
    "    os.chmod('locked/inner', 0)\n    os.chmod('locked', 0)"),
])
def test_a_littered_scratch_folder_never_reaches_the_next_submission(hostile, flags, mess):
    need(flags, "files")
    body = mess.replace("\n", "\n    ")
    plant = (f"def perceptron(X, y, n_epochs):\n    try:\n        {body}\n"
             "    except OSError:\n        pass  # the second case meets the first one's mess\n"
             "    return None\n")
    outcome(hostile(plant), "perceptron", "failed")
    look = (HONEST_ALIAS + "import os\n"
            "def perceptron(X, y, n_epochs):\n"
            "    left = [n for n in os.listdir('.') if n not in ('data',)]\n"
            "    if left:\n"
            "        raise FileExistsError('the last submission left ' + ', '.join(left))\n"
            "    return _honest_perceptron(X, y, n_epochs)\n")
    r = hostile(look)
    assert by_id(r)["perceptron"].status == "passed", by_id(r)["perceptron"].feedback
