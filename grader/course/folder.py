"""A course folder: where an assignment's files are, its declarations and version, loading it."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterable

from grader.course.files import available, find_root, paths, read_cases
from grader.course.memo import (
    Declarations,
    LazyReference,
    hidden_from_json,
    memo_key,
    memo_path,
    read_memo,
)
from grader.course.prepare import prepare_cases
from grader.course.spec import Assignment, Item, PreparedCase
from grader.errors import AuthoringError, UsageError

__all__ = ["available", "find_root", "import_path", "load", "load_declarations", "paths",
           "read_cases", "version_hash"]


def import_path(path: Path, name: str) -> types.ModuleType:
    """Import a trusted instructor file (reference or declarations) by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AuthoringError(f"{path}: cannot be imported")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # noqa: BLE001 - an instructor file that fails is an authoring error
        del sys.modules[name]
        raise AuthoringError(f"{path}: {type(e).__name__}: {e}") from None
    return mod


def version_hash(files: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        if p.exists():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_declarations(root: Path, name: str) -> types.ModuleType:
    p = paths(root, name)
    if not p["declarations"].exists():
        raise UsageError(f"{p['declarations']} not found: this is the instructor's side "
                         "(solutions/), which a student's copy does not have")
    ref = import_path(p["reference"], f"_grader_reference_{name}")
    decl = import_path(p["declarations"], f"_grader_cases_{name}")
    decl.__dict__.setdefault("reference", ref)
    return decl


def load(name: str, root: Path, *, public_only: bool = False,
         recall: bool = True) -> Assignment:
    """Load an assignment: the public part always, the secret part where present (from
    what earlier runs kept, :mod:`grader.course.memo`, unless ``recall`` is False: then
    the declarations and the reference are imported, as real modules)."""
    p = paths(root, name)
    if not p["cases"].exists():
        known = available(root)
        hint = f"; assignments here: {', '.join(known)}" if known else ""
        raise UsageError(f"unknown assignment {name!r}: {p['cases']} not found{hint}")
    data = read_cases(root, name)
    try:
        items = [Item.from_json(d) for d in data["items"]]
        public = [PreparedCase.from_json(d) for d in data["cases"]]
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{p['cases']} is damaged ({type(e).__name__}: {e}); "
                         "regenerate it with `grade assign`") from None
    settings = data.get("assignment", {})
    full = (not public_only) and p["reference"].exists() and p["declarations"].exists()
    reference: types.ModuleType | None = None
    factory: Callable[[], list[PreparedCase]] | None = None
    seed = None
    files = [p["cases"]] + ([p["reference"], p["declarations"]] if full else [])
    version = version_hash(files)
    memo: dict[str, Any] | None = None
    if full:
        reference, seed, factory, memo = _secret_side(root, name, items, recall)
    return Assignment(name=name, root=root, module=settings.get("module", name), items=items,
                      public=public, hidden_factory=factory, reference=reference,
                      version=version, seed=seed,
                      preload=tuple(settings.get("preload", ("numpy",))),
                      given_source=data.get("given_source", ""),
                      hidden_weights={(d["item"], d["part"]): float(d["weight"])
                                      for d in data.get("hidden_weights", [])}, memo=memo)


def _secret_side(root: Path, name: str, items: list[Item], recall: bool
                 ) -> tuple[types.ModuleType, int,
                            Callable[[], list[PreparedCase]], dict[str, Any]]:
    """(reference, seed, hidden cases' factory, memo): from what earlier runs kept where
    that is this version's (the declarations then wait until a case needs them), else
    from the declarations themselves."""
    key = memo_key(root, name)
    memo = read_memo(memo_path(root, name), key) if recall else None
    if memo is not None:
        try:
            decls = Declarations(lambda: load_declarations(root, name), int(memo["seed"]))
            names = [str(n) for n in memo["reference_names"]]
            kept = [hidden_from_json(d, decls) for d in memo["hidden"]]
            return LazyReference(decls, names), decls.seed, lambda: kept, memo
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # a damaged memo: as without one
    decl = load_declarations(root, name)
    reference = decl.reference
    seed = int(getattr(decl, "ASSIGNMENT", {}).get("seed", 0))
    fresh = {"key": key, "seed": seed, "hidden": None, "replies": [], "verdicts": [],
             "reference_names": sorted(n for n in dir(reference) if not n.startswith("_")
                                       and callable(getattr(reference, n)))}

    def factory() -> list[PreparedCase]:
        import numpy as np

        rng = np.random.default_rng(seed)
        return prepare_cases(decl.hidden_cases(rng), reference, items)

    return reference, seed, factory, fresh
