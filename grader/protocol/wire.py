"""The wire format between judge and runner: plain data plus numpy arrays, never pickle.

A value travels as a tree of plain data.  Numbers, strings, None and lists stand for
themselves; everything else is a one-key map with a tag:

- ``{"__nd__": [dtype, shape, data]}``: a numeric ndarray (or numpy scalar, as a 0-d
  array) as its raw bytes: ``bytes`` in messages (MessagePack), base64 text in JSON files
  (the public cases).  Only numeric dtypes are accepted and the byte count must match the
  shape: nothing in an array can run code (there is no pickle anywhere);
- ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}``: tuples and dicts (any key);
- ``{"__int__": "digits"}``: an integer beyond 64 bits (MessagePack's range);
- ``{"__rng__": state}``: a ``numpy.random.Generator``, as its bit generator's plain state;
- ``{"__callable__": name}``: a callable that lives on the other side of the channel;
- ``{"__df__": {"columns": [...], "data": [...]}}``: a pandas DataFrame (judge to runner);
- ``{"__opaque__": "type name"}``: something that is not data (a function, a custom object).

Messages are length-prefixed MessagePack frames (:mod:`grader.protocol.frames`).  Both ends cap
what they read, so a hostile submission can neither make the judge run code nor make it
read without bound.  Inside a message, values (arguments, returned values) travel packed
on their own (:func:`pack_value`): the judge keys its caches on those bytes and unpacks
them only when it must look inside.
"""

from __future__ import annotations

import base64
import math
from typing import Any, Callable

import numpy as np

# framing lives in frames.py (no numpy there, so a fork server starts before numpy loads)
from grader.protocol.frames import MAX_FRAME, WireError, pack, packb, parse, unpack_header, unpackb  # noqa: F401

MAX_NODES = 2_000_000  # nodes in one value
_PLAIN = frozenset((float, int, str, bool, type(None)))  # what a list decodes to as it is
LARGE = 4096  # packed bytes from which a runner keeps an argument decoded (a data set)
MAX_DEPTH = 64  # nesting of lists/dicts in one value
NUMERIC_KINDS = "biufc"
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what MessagePack carries as an integer


class Opaque:
    """Stands for a returned object that is not data (the judge only sees its type name)."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash(self.type_name)


class RemoteCallable:
    """Stands for a callable of the other side, named by the case that passes it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<callable {self.name}>"


# --------------------------------------------------------------------------- encoding


def _array_b64(a: np.ndarray) -> list[Any]:
    """[dtype, shape, base64 of the raw little-endian C-order bytes]."""
    if a.dtype.byteorder == ">" or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(a.shape)
    return [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode("ascii")]


class Encoder:
    """Turns a value into a tree of plain data (see the module docstring).

    ``rngs`` collects every Generator met, in order, so the caller can send back their
    states after a call; ``callables`` maps callables to names for the other side.
    """

    def __init__(self, callable_name: Callable[[Any], str | None] | None = None,
                 dataframes: bool = False, binary: bool = True) -> None:
        self.dataframes = dataframes  # keep DataFrames as such (else: as numeric arrays)
        self.binary = binary  # array data as bytes (messages), else base64 text (JSON files)
        self.nodes = 0
        self.rngs: list[np.random.Generator] = []
        self._callable_name = callable_name

    def encode(self, v: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the value is too large or too deeply nested to send")
        t = type(v)
        if t is float or t is str or t is bool or v is None:
            return v
        if t is int:
            return v if _INT_MIN <= v <= _INT_MAX else {"__int__": str(v)}
        if t is np.ndarray:
            if self.binary and v.dtype.str in _DTYPES and v.flags.c_contiguous:
                self.nodes += v.size // 8  # the common case, inline (see _array)
                if self.nodes > MAX_NODES * 8:
                    raise WireError("the array is too large to send")
                return {"__nd__": [v.dtype.str, list(v.shape), v.tobytes()]}
            return self._array(v)
        if t is list:
            return [self.encode(x, depth + 1) for x in v]
        if t is tuple:
            return {"__tuple__": [self.encode(x, depth + 1) for x in v]}
        if t is dict:
            return {"__dict__": [[self.encode(k, depth + 1), self.encode(x, depth + 1)]
                                 for k, x in v.items()]}
        return self._other(v, depth)

    def _other(self, v: Any, depth: int) -> Any:
        """Everything but the exact built-in types :meth:`encode` handles inline:
        subclasses, numpy scalars, generators, callables, pandas, array-likes."""
        if isinstance(v, str):
            return str(v)
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, (np.ndarray, np.generic)):
            return self._array(np.asarray(v))
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):
            return self.encode(int(v), depth)
        if isinstance(v, float):
            return float(v)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, tuple):
            return {"__tuple__": [self.encode(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return [self.encode(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {"__dict__": [[self.encode(k, depth + 1), self.encode(x, depth + 1)]
                                 for k, x in v.items()]}
        if isinstance(v, np.random.Generator):
            self.rngs.append(v)
            return {"__rng__": _jsonable_state(v.bit_generator.state)}
        if isinstance(v, RemoteCallable):
            return {"__callable__": v.name}
        if isinstance(v, Opaque):  # as it came: encoding what was decoded changes nothing
            return {"__opaque__": v.type_name}
        if self._callable_name is not None:
            name = self._callable_name(v)
            if name is not None:
                return {"__callable__": name}
        module = type(v).__module__ or ""
        if module.startswith("pandas"):
            return self._pandas(v, depth)
        if hasattr(v, "__array__"):
            try:
                return self._array(np.asarray(v))
            except Exception:  # noqa: BLE001 - any failure means "not data"
                pass
        return {"__opaque__": _type_name(v)}

    def _array(self, a: np.ndarray) -> Any:
        if a.dtype.kind not in NUMERIC_KINDS:
            try:
                a = a.astype(np.float64)
            except Exception:  # noqa: BLE001
                return {"__opaque__": f"ndarray of dtype {a.dtype}"}
        self.nodes += a.size // 8
        if self.nodes > MAX_NODES * 8:
            raise WireError("the array is too large to send")
        if self.binary:
            if a.dtype.byteorder == ">" or not a.flags.c_contiguous:
                a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(a.shape)
            return {"__nd__": [a.dtype.str, list(a.shape), a.tobytes()]}
        return {"__nd__": _array_b64(a)}

    def _pandas(self, v: Any, depth: int) -> Any:
        if type(v).__name__ == "DataFrame" and self.dataframes:
            return {"__df__": {
                "columns": [self.encode(c, depth + 1) for c in v.columns],
                "data": [self.encode(v[c].to_numpy() if v[c].dtype.kind in NUMERIC_KINDS
                                     else [None if isinstance(x, float) and x != x else x
                                           for x in v[c].to_numpy(dtype=object).tolist()],
                                     depth + 1)
                         for c in v.columns],
            }}
        try:
            return self._array(v.to_numpy(dtype=np.float64))
        except Exception:  # noqa: BLE001
            return {"__opaque__": _type_name(v)}


def _type_name(v: Any) -> str:
    t = type(v)
    mod = t.__module__
    return t.__qualname__ if mod in ("builtins", None) else f"{mod}.{t.__qualname__}"


def _jsonable_state(state: Any) -> Any:
    if isinstance(state, dict):
        return {str(k): _jsonable_state(x) for k, x in state.items()}
    if isinstance(state, np.ndarray):
        return {"__nd__": _array_b64(state)}
    if isinstance(state, (int, np.integer)) and not isinstance(state, bool):
        n = int(state)
        return n if _INT_MIN <= n <= _INT_MAX else {"__int__": str(n)}
    return state


def _state_from_json(state: Any) -> Any:
    if isinstance(state, dict):
        if set(state) == {"__nd__"}:
            return _load_array(state["__nd__"])
        if set(state) == {"__int__"}:
            return _big_int(state["__int__"])
        return {k: _state_from_json(x) for k, x in state.items()}
    return state


def _big_int(digits: Any) -> int:
    if not isinstance(digits, str) or len(digits) > 5000:
        raise WireError("malformed integer")
    try:
        return int(digits)
    except ValueError:
        raise WireError("malformed integer") from None


def encode(v: Any, binary: bool = True) -> Any:
    return Encoder(binary=binary).encode(v)


def pack_value(tree: Any) -> bytes:
    """An encoded value, packed: the form values take inside messages."""
    return packb(tree)


def unpack_value(data: Any) -> Any:
    """The tree of a packed value; anything malformed is a :class:`WireError`."""
    return unpackb(data)


# --------------------------------------------------------------------------- decoding


_DTYPES = {np.dtype(t).str: np.dtype(t) for t in (
    "?", "<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8",
    "<c16")} | {"|b1": np.dtype("?"), "|i1": np.dtype("i1"), "|u1": np.dtype("u1")}


def _load_array(body: Any) -> np.ndarray:
    """Rebuild an array from [dtype, shape, base64]: numeric dtypes only, sizes checked."""
    if not (isinstance(body, list) and len(body) == 3 and isinstance(body[0], str)
            and isinstance(body[1], list) and isinstance(body[2], (bytes, str))):
        raise WireError("malformed array")
    dtype = _DTYPES.get(body[0])
    if dtype is None:
        raise WireError(f"only numeric arrays travel on the wire, not {body[0][:20]!r}")
    shape = body[1]
    if len(shape) > 32 or not all(isinstance(n, int) and 0 <= n < 2**40 for n in shape):
        raise WireError("malformed array shape")
    raw = body[2]
    if isinstance(raw, str):
        try:
            raw = base64.b64decode(raw.encode("ascii"), validate=True)
        except ValueError:
            raise WireError("malformed array data") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def make_generator(state: Any) -> np.random.Generator:
    """Rebuild a Generator from its bit generator's plain state (PCG64, Philox, ...)."""
    state = _state_from_json(state)
    if not isinstance(state, dict) or not isinstance(state.get("bit_generator"), str):
        raise WireError("malformed random generator state")
    name = state["bit_generator"]
    if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
        raise WireError(f"unsupported bit generator {name!r}")
    bg = getattr(np.random, name)()
    try:
        bg.state = state
    except Exception as e:  # noqa: BLE001 - a forged state is malformed data, nothing more
        raise WireError(f"malformed random generator state ({type(e).__name__})") from None
    return np.random.Generator(bg)


class Decoder:
    """Turns a tree of plain data back into values; records the Generators it builds, in order."""

    def __init__(self, on_callable: Callable[[str], Any] | None = None,
                 allow_dataframe: bool = False) -> None:
        self.rngs: list[np.random.Generator] = []
        self._on_callable = on_callable
        self._allow_df = allow_dataframe
        self.nodes = 0

    def decode(self, v: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the value is too large or too deeply nested")
        t = type(v)  # unpacking makes exactly these types: no subclasses to worry about
        if t is float or t is int or t is str or t is bool or v is None:
            return v
        if t is list:
            if depth < MAX_DEPTH and all(type(x) in _PLAIN for x in v):  # numbers, strings
                self.nodes += len(v)
                if self.nodes > MAX_NODES:
                    raise WireError("the value is too large or too deeply nested")
                return list(v)
            return [self.decode(x, depth + 1) for x in v]
        if t is not dict or len(v) != 1:
            raise WireError("malformed value")
        ((tag, body),) = v.items()
        if tag == "__nd__":
            return _load_array(body)
        if tag == "__int__":
            return _big_int(body)
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(self.decode(x, depth + 1) for x in body)
        if tag == "__dict__" and isinstance(body, list):
            out = {}
            for pair in body:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("malformed dict")
                key = self.decode(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    key = repr(key)
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if tag == "__rng__":
            g = make_generator(body)
            self.rngs.append(g)
            return g
        if tag == "__callable__" and isinstance(body, str):
            return self._on_callable(body) if self._on_callable else RemoteCallable(body)
        if tag == "__opaque__" and isinstance(body, str):
            return Opaque(body[:200])
        if tag == "__df__" and self._allow_df and isinstance(body, dict):
            import pandas as pd

            cols = [self.decode(c, depth + 1) for c in body.get("columns", [])]
            data = [self.decode(c, depth + 1) for c in body.get("data", [])]
            columns = dict(zip(cols, data))
            if len(columns) == len(cols):  # (naming the columns again costs a third more)
                return pd.DataFrame(columns)
            return pd.DataFrame(columns, columns=cols)
        raise WireError(f"unknown tag {tag!r}")


def decode(v: Any) -> Any:
    return Decoder().decode(v)


def generator_state(g: np.random.Generator) -> Any:
    return _jsonable_state(g.bit_generator.state)


def set_generator_state(g: np.random.Generator, state: Any) -> None:
    g.bit_generator.state = _state_from_json(state)
