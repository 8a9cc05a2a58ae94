"""``grade gradescope``: the autograder zip that Gradescope builds its image from.

Its root becomes ``/autograder/source``: ``setup.sh`` and ``run_autograder`` (templates of
this package), the engine as a wheel (built offline by
:func:`grader.authoring.release.build_wheel`), ``requirements.txt`` with the versions of
every dependency installed here, the assignment's ``exercises/`` files, ``solutions/``,
``data/`` and ``course.toml``, and ``gradescope.json`` with the settings
``run_autograder`` reads.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import sys
import tempfile
import zipfile
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from grader.authoring.release import DIST, FIXED_TIME, build_wheel
from grader.course.files import available, paths
from grader.errors import UsageError
from grader.gradescope.results import Options

SCRIPTS = ("setup.sh", "run_autograder")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _requirement(req: str) -> tuple[str, str]:
    """(distribution name, environment marker or '') of a ``Requires-Dist`` line."""
    spec, _, marker = req.partition(";")
    m = _NAME.match(spec)
    return (m.group(1) if m else spec.strip()), marker.strip()


def pinned_requirements(dist: str = DIST) -> list[str]:
    """``name==version`` of every runtime dependency of ``dist`` installed here, recursively.

    Dependencies behind an ``extra`` are left out; one whose marker does not hold here
    (so it is not installed) keeps its original requirement, marker and all.
    """
    seen: dict[str, str] = {}
    todo = [dist]
    while todo:
        try:
            reqs = md.distribution(todo.pop()).requires or []
        except md.PackageNotFoundError:
            continue
        for req in reqs:
            name, marker = _requirement(req)
            key = re.sub(r"[-_.]+", "-", name).lower()
            if "extra ==" in marker or "extra==" in marker:
                continue
            if key in seen and (marker or ";" not in seen[key]):
                continue   # seen already; an unconditional need replaces a conditional one
            try:
                version = md.version(name)
            except md.PackageNotFoundError:
                seen[key] = req.strip()
                continue
            seen[key] = f"{name}=={version}" + (f"; {marker}" if marker else "")
            todo.append(name)
    return sorted(seen.values(), key=str.lower)


def loose_requirements(dist: str = DIST) -> list[str]:
    """The engine's own requirement ranges, for a container whose Python differs."""
    try:
        reqs = md.distribution(dist).requires or []
    except md.PackageNotFoundError:
        reqs = ["numpy", "pandas", "click", "rich", "msgpack", "nbformat", "pyyaml"]
    return [r for r in reqs if "extra ==" not in _requirement(r)[1]]


def course_files(root: Path, name: str) -> dict[str, Path]:
    """Path in the zip -> file: the assignment's exercises, solutions/ and data/."""
    p = paths(root, name)
    out: dict[str, Path] = {}
    for key in ("stub", "notebook", "cases"):
        if p[key].exists():
            out[f"exercises/{p[key].name}"] = p[key]
    for key in ("reference", "declarations"):
        if not p[key].exists():
            raise UsageError(f"{p[key]} not found: an autograder needs the reference and the "
                             "hidden cases (build it from the course folder with solutions/)")
    for folder in ("solutions", "data"):
        base = root / folder
        for f in sorted(base.rglob("*")) if base.is_dir() else []:
            rel = f.relative_to(base)
            if (f.is_file() and f.suffix != ".pyc"
                    and not any(x.startswith(".") or x == "__pycache__" for x in rel.parts)):
                out[f"{folder}/{rel.as_posix()}"] = f
    return out


def _public_rules(root: Path, name: str) -> dict[str, bytes]:
    """The course's public rules for ``name`` (dates, late policy), as a release ships them:
    never the roster, anyone's extension or allowance, nor the imports."""
    from grader.policy.public import write_public

    with tempfile.TemporaryDirectory() as tmp:
        return {n: (Path(tmp) / n).read_bytes() for n in write_public(root, name, Path(tmp))}


def _script(name: str, python: str) -> bytes:
    text = package_files("grader.gradescope").joinpath(f"templates/{name}").read_text("utf-8")
    return text.replace("@PYTHON_VERSION@", python).encode("utf-8")


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    """A deterministic zip: fixed times, sorted names, the two scripts executable."""
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder: give a file name such as autograder.zip")
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(members):
                zi = zipfile.ZipInfo(name, FIXED_TIME)
                zi.external_attr = (0o755 if name in SCRIPTS else 0o644) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, members[name])
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


def build(root: Path, name: str, out: Path, options: Options | None = None, *,
          pin: bool = True, python: str | None = None) -> dict[str, Any]:
    """Write Gradescope's autograder zip for assignment ``name`` to ``out``.

    Returns the settings written to ``gradescope.json`` (with the member list).
    """
    if name not in available(root):
        known = ", ".join(available(root)) or "none"
        raise UsageError(f"unknown assignment {name!r} (here: {known}): run `grade assign "
                         f"{name}` first, or check the name")
    options = options or Options()
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    if not re.fullmatch(r"3\.\d+", python) or int(python.split(".")[1]) < 10:
        raise UsageError(f"--python {python!r}: give a version of 3.10 or newer, such as 3.12")
    members = {rel: src.read_bytes() for rel, src in course_files(root, name).items()}
    members.update(_public_rules(root, name))
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        members[f"wheels/{wheel.name}"] = wheel.read_bytes()
    reqs = pinned_requirements() if pin else loose_requirements()
    members["requirements.txt"] = ("".join(f"{r}\n" for r in reqs)).encode("utf-8")
    for script in SCRIPTS:
        members[script] = _script(script, python)
    config = {"assignment": name, "per_case": options.per_case,
              "hidden_visibility": options.hidden_visibility,
              "visibility": options.visibility, "stdout_visibility": options.stdout_visibility,
              "python": python, "wheel": wheel.name, "pinned": pin}
    members["gradescope.json"] = (json.dumps(config, indent=1) + "\n").encode("utf-8")
    _write_zip(out, members)
    return {**config, "members": sorted(members)}


__all__ = ["build", "course_files", "loose_requirements", "pinned_requirements"]
