"""``grade release``: build what students receive, and nothing from ``solutions/``.

A release is a folder (or a zip of it) with the exercises (stubs, notebook, public
cases), the course's data, a wheel of this engine to install, and a README that says
how.  The wheel is built here from the installed ``grader`` package (no build tools,
no network), deterministically.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import shutil
import zipfile
from pathlib import Path

from grader.course.files import paths, read_cases
from grader.errors import UsageError

DIST = "course-grader"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

RELEASE_README = """\
# {name}: {title}

{sheet}Install the grader once (Python 3.10 or newer) in a virtual environment of its own
(Debian, Ubuntu and Homebrew Pythons refuse `pip install` outside one, PEP 668), then check
your work as you go:

```sh
python3 -m venv .venv
. .venv/bin/activate              # Windows: .venv\\Scripts\\activate
python -m pip install wheels/{wheel}
grade {name}                              # grades exercises/{name}.py
grade {name} --submission exercises/{name}.ipynb
```

In a new terminal, activate the environment again (`. .venv/bin/activate`) before `grade`.
Fill in the functions of `exercises/{name}.py` (or the notebook `exercises/{name}.ipynb`):
each body that raises `NotImplementedError` is yours to write. `grade {name}` runs the
public cases and shows your score per item with what to fix; the hidden cases run when
your submission is graded. In the notebook, `from grader import check; check("ITEM")`
grades one item of the cells you have run so far.
"""
SHEET = "The assignment sheet, [`exercises/{file}`](exercises/{file}), says what to write.\n\n"


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_wheel(out_dir: Path) -> Path:
    """A py3-none-any wheel of the installed ``grader`` package, built byte-identically."""
    import grader

    try:
        dist = md.distribution(DIST)
        version = dist.version
        requires = [r for r in (dist.requires or []) if "extra ==" not in r]
        summary = dist.metadata["Summary"] or ""
    except md.PackageNotFoundError:
        version, requires, summary = "0.0.0", ["numpy", "pandas", "click", "rich", "msgpack"], ""
    pkg = Path(grader.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for f in sorted(pkg.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            files[f"grader/{f.relative_to(pkg).as_posix()}"] = f.read_bytes()
    info = f"course_grader-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {DIST}", f"Version: {version}",
                f"Summary: {summary}", "Requires-Python: >=3.10"]
    metadata += [f"Requires-Dist: {r}" for r in requires]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: grader.release\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ngrade = grader.cli.entry:grade\n"
    files[f"{info}/top_level.txt"] = b"grader\n"
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"course_grader-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            zi = zipfile.ZipInfo(name, FIXED_TIME)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return wheel


def release_files(root: Path, name: str) -> dict[str, Path]:
    """Relative path in the release -> source file.  Never anything under solutions/."""
    p = paths(root, name)
    out: dict[str, Path] = {}
    for key in ("stub", "notebook", "cases"):
        if not p[key].exists():
            raise UsageError(f"{p[key]} not found: run `grade assign {name}` first")
        out[f"exercises/{p[key].name}"] = p[key]
    sheet = root / "exercises" / f"{name}.md"   # the assignment sheet, where the course has one
    if sheet.is_file():
        out[f"exercises/{sheet.name}"] = sheet
    data = root / "data"
    if data.is_dir():
        for f in sorted(data.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                out[f"data/{f.relative_to(data).as_posix()}"] = f
    secret = (root / "solutions").resolve()
    for src in out.values():
        if secret in src.resolve().parents:
            raise UsageError(f"refusing to release {src}: it is under solutions/")
    return out


def release(root: Path, name: str, out: Path | None = None, zip_path: Path | None = None,
            title: str = "") -> list[Path]:
    """Write the release folder and/or zip; returns what was written."""
    import json

    if out is None and zip_path is None:
        raise UsageError("say where the release goes: --out DIR and/or --zip FILE")
    files = release_files(root, name)
    if not title:
        try:
            title = read_cases(root, name).get("assignment", {}).get("title", name)
        except (UsageError, AttributeError):
            title = name
    written: list[Path] = []
    staging = out if out is not None else Path(str(zip_path) + ".d")
    if staging.exists():
        if any(staging.iterdir()) and not (staging / "RELEASE.json").exists():
            raise UsageError(f"{staging} exists and is not an earlier release: choose an empty "
                             "or new folder")
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for rel, src in files.items():
        dst = staging / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    wheel = build_wheel(staging / "wheels")
    from grader.policy.public import write_public

    rules = write_public(root, name, staging)      # the deadline, for `grade ASSIGNMENT`
    sheet = SHEET.format(file=f"{name}.md") if f"exercises/{name}.md" in files else ""
    (staging / "README.md").write_text(RELEASE_README.format(
        name=name, title=title, wheel=wheel.name, sheet=sheet), encoding="utf-8")
    (staging / "RELEASE.json").write_text(json.dumps(
        {"assignment": name,
         "files": sorted([*files, f"wheels/{wheel.name}", "README.md", *rules])},
        indent=1) + "\n", encoding="utf-8")
    if out is not None:
        written.append(out)
    if zip_path is not None:
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(staging.rglob("*")):
                if f.is_file():
                    zi = zipfile.ZipInfo(f"{name}/{f.relative_to(staging).as_posix()}",
                                         FIXED_TIME)
                    zi.external_attr = 0o644 << 16
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(zi, f.read_bytes())
        written.append(zip_path)
        if out is None:
            shutil.rmtree(staging)
    return written
