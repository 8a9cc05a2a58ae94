"""The runner's processes: the fork server that imports numpy once and forks one
confined runner per request, and the runner's start when it cannot fork.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import stat
import time
from typing import Any

from grader.protocol import wire
from grader.protocol.channel import Channel, ChannelClosed
from grader.runner.calls import Runner, share
from grader.sandbox.affinity import pin
from grader.sandbox.confine import confine, prepare, reach_by_descriptor, within

# ---------------------------------------------------------------------- processes



def _wipe(folder: str, links: dict[str, str], budget: int = 100_000) -> bool:
    """Empty the scratch folder an earlier runner left; True when it is clean.

    Everything the runner's uid owns goes; mounts (bound folders) and what is not ours
    stay; ``links`` (name -> target) are restored.  Iterative and bounded: a tree too
    deep or too big to clear leaves it unclean: the runner says so before it reads
    anything, and the judge starts a fresh fork server (a fresh sandbox) instead.
    """
    swept = _sweep(folder, links, budget)
    if swept is None:
        return False
    clean, dirs, pinned = swept
    for d in reversed(dirs):
        if d not in pinned:
            try:
                os.rmdir(d)
            except OSError:
                clean = False
    return _restore_links(folder, links) and clean


def _sweep(folder: str, links: dict[str, str],
           budget: int) -> tuple[bool, list[str], set[str]] | None:
    """Unlink every file of ours below ``folder``; (clean, folders to remove, folders that
    hold a mount or what is not ours); None when the tree is over ``budget`` entries."""
    me = os.getuid() if hasattr(os, "getuid") else None
    try:
        top = os.lstat(folder).st_dev
    except OSError:
        return None
    clean = True
    pinned: set[str] = set()  # folders holding a mount: they stay, and are not dirt
    dirs: list[str] = []
    todo = [folder]
    while todo:
        d = todo.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError:
            clean = False
            continue
        for e in entries:
            budget -= 1
            if budget < 0:
                return None
            try:
                st = e.stat(follow_symlinks=False)
                if st.st_dev != top or (me is not None and st.st_uid != me):
                    p = d
                    while within(p, folder) and p not in pinned:
                        pinned.add(p)
                        p = os.path.dirname(p)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(e.path, 0o700)
                    todo.append(e.path)
                    dirs.append(e.path)
                elif not (d == folder and links.get(e.name) is not None
                          and stat.S_ISLNK(st.st_mode) and os.readlink(e.path) == links[e.name]):
                    os.unlink(e.path)
            except OSError:
                clean = False
    return clean, dirs, pinned


def _restore_links(folder: str, links: dict[str, str]) -> bool:
    clean = True
    for name, target in links.items():
        dest = os.path.join(folder, name)
        if not os.path.lexists(dest):
            try:
                os.symlink(target, dest)
            except OSError:
                clean = False
    return clean



def _reap(pid: int, wait: float = 0.0) -> bool:
    """Reap ``pid`` if it has ended (waiting up to ``wait`` s); True once it is gone."""
    end = time.monotonic() + wait
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.0005)


def _kill(pid: int) -> None:
    for fn in (os.killpg, os.kill):
        try:
            fn(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap(pid, 2.0)  # SIGKILL cannot be ignored; a big address space takes a moment to free


def _child(sock: socket.socket, opts: dict[str, Any], limits: dict[str, Any], wipe: bool,
           parent: int, cpu: Any = None) -> None:
    """In a freshly forked child: join the judge's core, confine, clean the scratch
    folder, then serve the judge."""
    try:
        os.setsid()
    except OSError:
        pass
    if isinstance(cpu, int) and not isinstance(cpu, bool):
        pin(cpu)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    workdir = opts.get("workdir")
    if workdir:
        os.chdir(workdir)
    drop = opts.get("drop")
    confine(limits, (int(drop[0]), int(drop[1])) if drop else None, parent)
    clean = True
    if workdir and wipe:
        try:
            clean = _wipe(workdir, dict(opts.get("links", {})))
        except Exception:  # noqa: BLE001 - whatever was left, this runner still serves
            clean = False
    ch = Channel(sock)
    ch.send({"op": "hello", "clean": clean})  # before any submission code: trustworthy
    Runner(ch).serve()


def fork_server(fd: int, opts: dict[str, Any]) -> None:
    """Fork server: one runner per ``fork`` request, its socket handed over SCM_RIGHTS.

    ``opts``: ``preload`` (modules imported once, here), ``drop`` ([uid, gid] every runner
    switches to), ``workdir`` (the runners' scratch and working folder) and ``links``
    (name -> target symlinks kept in it, such as the course's public ``data``).  Besides
    ``fork`` it takes ``kill`` (a runner's pid: its process group is killed; the judge
    cannot do it itself when the sandbox has its own PID namespace) and ``share``
    (public cases' large arguments, packed: decoded here once, every later runner
    starts with them, :func:`grader.runner.calls.share`).
    """
    _warm_up(opts)
    control = socket.socket(fileno=fd)
    ch = Channel(control)
    me = os.getpid()
    ch.send({"op": "ready", "pid": me, "uid": os.getuid() if hasattr(os, "getuid") else None})
    children: set[int] = set()
    while True:
        try:
            msg = ch.recv()
        except (ChannelClosed, wire.WireError):
            os._exit(0)
        op = msg.get("op")
        if op == "kill":
            victim = msg.get("pid")
            if isinstance(victim, int) and victim in children:
                _kill(victim)
                children.discard(victim)
            continue
        if op == "share":
            share(msg.get("values"))
            gc.freeze()  # as what was imported: never walked, so never copied, by a runner
            continue
        if op != "fork":
            os._exit(0)
        children = {p for p in children if not _reap(p)}
        children.add(_fork_runner(control, opts, msg.get("limits", {}), not children, me,
                                  msg.get("cpu")))


def _warm_up(opts: dict[str, Any]) -> None:
    """Everything a runner shares with its fork server, done once: imports, preparation."""
    drop = opts.get("drop")
    if drop:  # before any import: runners must reach every module by the same names
        reach_by_descriptor(int(drop[0]), int(drop[1]))
    for mod in opts.get("preload", []):
        try:
            __import__(mod)
        except Exception:  # noqa: BLE001, S110 - the runner reports it if it matters
            pass
    prepare()
    # What the fork server holds now is shared with every runner, copy-on-write: frozen,
    # the garbage collector never walks it (a walk writes to every object, and so copies
    # every page, in each runner).  No collection first: after the imports it frees
    # nothing and takes ~30 ms, on the path of every `grade` command.
    gc.freeze()


def _fork_runner(control: socket.socket, opts: dict[str, Any], limits: dict[str, Any],
                 first: bool, me: int, cpu: Any = None) -> int:
    """Fork one runner and hand the judge its end of a fresh socket; the runner's pid."""
    parent_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            control.close()
            parent_end.close()
            _child(child_end, opts, limits, first, me, cpu)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    child_end.close()
    socket.send_fds(control, [wire.pack({"op": "forked", "pid": pid})], [parent_end.fileno()])
    parent_end.close()
    return pid


def spawned(fd: int, limits: str) -> None:
    """Without fork (Windows, or when asked): this process is itself the runner."""
    import json

    sock = socket.socket(fileno=fd)
    confine(json.loads(limits))
    try:
        Runner(Channel(sock)).serve()
    finally:
        os._exit(0)  # no atexit hooks, no lingering threads


def quiet_std_fds() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)
