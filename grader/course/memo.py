"""What grading an assignment version has learned, kept on disk: the student's command
then needs neither the reference nor the declarations (nor pandas, which they import)
to grade a submission that does what earlier ones did.

One file per assignment, ``solutions/.cache/NAME-judge.msgpack`` (the secret side: never
released, never visible to a runner), holding

- the hidden cases, prepared (inputs, expected values, the declared slips' values);
- the reference's answers to substitute calls and the grader's callables' answers, by
  the exact bytes of their arguments;
- the verdicts on returned values, by the exact bytes of the value (and of the calls
  recorded with it): the same bytes always get the same verdict;
- which functions the reference defines.

Its key is everything these depend on: every file under ``solutions/`` and ``data/``,
the public cases file, the grader's own modules, numpy's and Python's versions, the CPU
and the BLAS selection.
When the key matches, the assignment loads from the file and the declarations stay
unimported until a case needs them: a substitute call, a callable's call or a value
not seen before.  Then they load (as :class:`Declarations`), the cases are made again
and everything goes on as without the file.  Nothing in it is ever sent to a runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Callable

import msgpack

from grader.course.spec import Case, PreparedCase

FORMAT = 3
MAX_BYTES = 64 * 1024 * 1024  # past this the file is written afresh with this run's lessons
_BLAS_VARS = ("OPENBLAS", "GOTO", "MKL", "BLIS", "OMP", "NPY")


def memo_path(root: Path, name: str) -> Path:
    return root / "solutions" / ".cache" / f"{name}-judge.msgpack"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> list[Any]:
    """What a computed float depends on besides the code: the numeric stack and the CPU."""
    import numpy as np

    return [np.__version__, sys.version, platform.machine(), _cpu(),
            sorted((k, v) for k, v in os.environ.items() if k.startswith(_BLAS_VARS))]


def grader_stamp() -> list[Any]:
    """The grader's own code as installed (each module's path, size and modification
    time): a verdict kept by another version of the grader is not this one's."""
    base = Path(__file__).resolve().parents[1]
    out: list[Any] = []
    for p in sorted(base.rglob("*.py")):
        try:
            st = p.stat()
        except OSError:
            continue
        out.append([str(p.relative_to(base)), st.st_size, st.st_mtime_ns])
    return out


def memo_key(root: Path, name: str) -> str:
    """Every file the assignment's grading may read on the secret side, the grader's own
    code and the machine."""
    h = hashlib.sha256(json.dumps([FORMAT, name, machine(), grader_stamp()]).encode())
    files = [root / "exercises" / f"{name}.cases.json"]
    for folder in ("solutions", "data"):
        base = root / folder
        files += sorted(p for p in base.rglob("*") if p.is_file()
                        and not any(x.startswith(".") or x == "__pycache__"
                                    for x in p.relative_to(base).parts)) if base.is_dir() else []
    for p in files:
        try:
            data = p.read_bytes()
        except OSError:
            continue
        h.update(str(p.relative_to(root)).encode() + b"\0" + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Declarations:
    """The assignment's declarations, imported on first use; the hidden cases they make,
    by reference (:attr:`PreparedCase.ref`)."""

    def __init__(self, load: Callable[[], types.ModuleType], seed: int) -> None:
        self._load = load
        self.seed = seed
        self._module: types.ModuleType | None = None
        self._cases: dict[str, Case] | None = None

    @property
    def module(self) -> types.ModuleType:
        if self._module is None:
            self._module = self._load()
        return self._module

    def case(self, ref: str) -> Case:
        if self._cases is None:
            import numpy as np

            made = self.module.hidden_cases(np.random.default_rng(self.seed))
            self._cases = {f"{c.visibility}:{c.item}:{c.name}": c for c in made}
        return self._cases[ref]


class LazyReference(types.ModuleType):
    """The reference module, imported when one of its functions is first called."""

    def __init__(self, decl: Declarations, names: list[str]) -> None:
        super().__init__("reference")
        self._decl = decl
        self._names = frozenset(names)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(name)
        decl = self._decl

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(decl.module.reference, name)(*args, **kwargs)

        call.__name__ = name
        return call


def _lazy(decl: Declarations, ref: str, what: str, name: str = "") -> Callable[..., Any]:
    """A hidden case's check (``what="check"``) or grader callable, from the declarations
    when first called."""
    def call(*args: Any, **kwargs: Any) -> Any:
        case = decl.case(ref)
        fn = case.check if what == "check" else case.callbacks[name]
        assert fn is not None
        return fn(*args, **kwargs)

    call.__name__ = name or what
    return call


def _callables(tree: Any, found: set[str]) -> set[str]:
    if isinstance(tree, list):
        for x in tree:
            _callables(x, found)
    elif isinstance(tree, dict):
        if len(tree) == 1 and isinstance(tree.get("__callable__"), str):
            found.add(tree["__callable__"])
        else:
            for x in tree.values():
                _callables(x, found)
    return found


def hidden_to_json(pc: PreparedCase) -> dict[str, Any]:
    return {**pc.to_json(), "has_check": pc.case.check is not None}


def hidden_from_json(d: dict[str, Any], decl: Declarations) -> PreparedCase:
    import dataclasses

    pc = PreparedCase.from_json(d)
    ref = f"hidden:{pc.case.item}:{pc.case.name}"
    check = _lazy(decl, ref, "check") if d.get("has_check") else None
    pc.case = dataclasses.replace(pc.case, visibility="hidden", check=check,
                                  where=pc.case.where)
    pc.callables = {n: _lazy(decl, ref, "callable", n)
                    for n in sorted(_callables([d["args"], d["kwargs"]], set()))}
    return pc


def read_memo(path: Path, key: str) -> dict[str, Any] | None:
    """The file's content when it is this key's, else None (missing, stale, damaged)."""
    try:
        data = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        for field in ("hidden", "replies", "verdicts", "reference_names"):
            if not isinstance(data.get(field), list):
                return None
        return data
    except (OSError, ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
            msgpack.StackError):
        return None


def write_memo(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, readable by its owner only; where that cannot be (a read-only
    checkout, a file in the way), go without."""
    tmp = None
    try:
        body = msgpack.packb(data, use_bin_type=True)
        if len(body) > MAX_BYTES:
            return
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".judge-", suffix=".msgpack")
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError, TypeError):
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
