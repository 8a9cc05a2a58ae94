"""``grade doctor``: which isolation layers confine submissions on this machine, and why
the others do not.

It starts the fork server exactly as grading does, then runs a small probe as a
submission and reports what the probe could and could not do (fork, start a thread,
reach the network, see or write the course folder), so what it prints is measured, not
assumed.  Imported only when the command runs (see ``LAZY_COMMANDS`` in :mod:`grader.cli`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import click

from grader.cli.common import handles_errors

EPILOG = """\b
Examples:
  grade doctor                      layers active here, checked by a probe
  grade doctor --json               the same, as one JSON object
  GRADER_BWRAP=0 grade doctor       what is left without bubblewrap
"""

# Runs inside a runner as an ordinary submission: it reports, it changes nothing.
PROBE = '''
import os, socket, sys

def _try(fn):
    try:
        fn()
        return "allowed"
    except BaseException as e:
        return "refused (" + type(e).__name__ + ": " + str(e)[:80] + ")"

def _fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)

def _thread():
    import threading
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()

def _network():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 53))  # a route lookup only: nothing is sent
    finally:
        s.close()

def _read(path):
    def go():
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as f:
                f.read(1)
    return go

def probe(course, secret):
    import resource
    limits = {}
    for name in ("AS", "CPU", "FSIZE", "NOFILE", "NPROC", "STACK", "CORE"):
        soft = resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0]
        limits[name] = None if soft == resource.RLIM_INFINITY else soft
    return {
        "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
        "root": sorted(os.listdir("/"))[:40], "limits": limits,
        "fork": _try(_fork), "thread": _try(_thread), "network": _try(_network),
        # the course's own files (its path may exist only to hold a venv kept inside it)
        "course_visible": os.path.exists(os.path.join(course, "exercises")),
        "read_secret": _try(_read(secret)) if secret else "no solutions/ here",
        "write_course": "allowed" if os.access(course, os.W_OK) else "refused",
    }
'''


def _secret(course: Path) -> Path | None:
    sol = course / "solutions"
    if not sol.is_dir():
        return None
    files = sorted(p for p in sol.iterdir() if p.is_file())
    return files[0] if files else sol


def _world_readable(path: Path, uid: int, gid: int) -> bool:
    from grader.sandbox.confine import unreachable

    return unreachable(str(path), uid, gid) is None


def run_probe(server: Any, course: Path) -> dict[str, Any]:
    """Run :data:`PROBE` as a submission in one of ``server``'s runners; its report."""
    from grader.protocol import wire

    secret = _secret(course)
    session = server.open()
    try:
        session.send({"op": "load", "code": PROBE, "filename": "doctor_probe.py",
                      "module": "doctor_probe"})
        loaded = session.recv(time.monotonic() + 30)
        if loaded.get("status") != "ok":
            return {"error": str(loaded.get("error"))[:300]}
        session.send({"op": "calls", "calls": [{
            "func": "probe",
            "args": [wire.pack_value(a) for a in (str(course), str(secret) if secret else "")],
            "kwargs": wire.pack_value(wire.encode({}))}]})
        reply = session.recv(time.monotonic() + 30)
        if reply.get("status") != "ok":
            return {"error": str(reply.get("error"))[:300]}
        facts = wire.decode(wire.unpack_value(reply.get("value")))
        return facts if isinstance(facts, dict) else {"error": "the probe sent no report"}
    finally:
        session.close()


def diagnose(course: Path) -> dict[str, Any]:
    """Start a fork server as grading does, probe it, and say what holds."""
    from grader.sandbox.forkserver import ForkServer
    from grader.sandbox.plan import is_root

    started = time.perf_counter()
    with ForkServer(("numpy",), course=course, verbose=False) as server:
        server.ready()
        facts = run_probe(server, course)
        plan = server.plan
        report: dict[str, Any] = {
            "machine": f"{platform.system()} {platform.release()} {platform.machine()}, "
                       f"Python {platform.python_version()}, running as uid "
                       f"{os.geteuid() if hasattr(os, 'geteuid') else '?'}"
                       f"{' (root)' if is_root() else ''}",
            "course": str(course),
            "active": [{"layer": n, "what": w} for n, w in server.layers],
            "inactive": [{"layer": n, "why": w} for n, w in server.inactive],
            "probe": facts,
            "warnings": [],
            "seconds": round(time.perf_counter() - started, 3),
        }
        secret = _secret(course)
        drop = plan.drop if plan is not None else None
        if secret is not None and plan is not None and not plan.bwrap:
            uid, gid = drop if drop else (os.getuid(), os.getgid())
            if drop and _world_readable(secret, uid, gid):
                report["warnings"].append(
                    f"{secret.parent} is readable by uid {uid}: without bubblewrap a "
                    f"submission could read it; run `chmod -R o-rwx {secret.parent}` "
                    "(and keep gradebooks and results out of reach the same way)")
            elif not drop:
                report["warnings"].append(
                    "runners run as you: without bubblewrap a submission can read and write "
                    "whatever you can; grade untrusted submissions on Linux with bubblewrap "
                    "installed, or as root (runners then switch to uid 65534)")
    if isinstance(facts, dict) and facts.get("fork") == "allowed":
        report["warnings"].append("a runner could fork: fork bombs are only stopped by the "
                                  "wall clock here")
    if isinstance(facts, dict) and facts.get("read_secret") == "allowed":
        report["warnings"].append("a runner could read the course's solutions/")
    return report


def _line(ok: bool | None, text: str) -> str:
    mark = {True: "[on] ", False: "[off]", None: "[!]  "}[ok]
    return f"  {mark} {text}"


def render(report: dict[str, Any]) -> str:
    out = [f"Isolation on this machine: {report['machine']}", ""]
    out.append("Active layers:")
    for a in report["active"]:
        out.append(_line(True, f"{a['layer']}: {a['what']}"))
    if report["inactive"]:
        out.append("")
        out.append("Not active:")
        for a in report["inactive"]:
            out.append(_line(False, f"{a['layer']}: {a['why']}"))
    facts = report["probe"]
    out.append("")
    if "error" in facts:
        out.append(f"Probe: could not run ({facts['error']})")
    else:
        lim = facts.get("limits", {})
        mem = lim.get("AS")
        out.append("Probe (a submission run as grading runs it):")
        out += [
            f"  runs as uid {facts['uid']} (gid {facts['gid']}) in {facts['cwd']}",
            f"  sees / as: {' '.join(facts['root'])}",
            f"  fork: {facts['fork']}",
            f"  thread: {facts['thread']}",
            f"  network: {facts['network']}",
            (f"  the course's files: {'visible' if facts['course_visible'] else 'not visible'}"
            f"; writing it {facts['write_course']}"),
            f"  reading solutions/: {facts['read_secret']}",
            (f"  memory: {'unlimited' if mem is None else f'{mem // 2**20} MB address space'}"
            f"; CPU: {lim.get('CPU')} s; processes: {lim.get('NPROC')}"),
        ]
    if report["warnings"]:
        out.append("")
        out.append("Warnings:")
        out += [_line(None, w) for w in report["warnings"]]
    return "\n".join(out)


@click.command("doctor", epilog=EPILOG)
@click.option("--course", type=click.Path(file_okay=False, path_type=Path),
              help="The course folder (default: found from the current folder, else here).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@handles_errors
def doctor(course: Path | None, as_json: bool) -> None:
    """Say which isolation layers confine submissions here, and why others do not.

    Set GRADER_VERBOSE=1 to have every grading print its active layers on stderr;
    GRADER_BWRAP=0 turns bubblewrap off, GRADER_UID picks the unprivileged uid used
    when grading as root.
    """
    from grader.errors import UsageError
    from grader.sandbox.plan import SandboxError

    if course is None:
        from grader.course.files import find_root

        try:
            course = find_root()
        except Exception:  # noqa: BLE001 - not in a course: probe with the current folder
            course = Path.cwd()
    try:
        report = diagnose(Path(course).resolve())
    except SandboxError as e:
        raise UsageError(str(e)) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render(report))
    sys.stdout.flush()
