"""Fresh copies of values, and digests of them: how a runner logs its own helpers' calls.

A submission's own helper stands in for the judge's substitute only while it does
exactly what the reference does.  The runner checks nothing itself; it logs each call
as two digests, of the arguments and of the value (with the states the call left its
Generators in), and the judge looks them up in what it learned of the reference's
answers (:mod:`grader.judge.replies`).  32 bytes a call travel back, however large the
arrays: no argument or value is encoded, packed or sent.

A digest is BLAKE2b-128 of a canonical walk of the value *as it arrives across the
wire*: :meth:`Digest.copy` makes that form (equal to ``decode(encode(v))``, see
:mod:`grader.protocol.wire`, without the round trip) and digests it in the same walk;
:meth:`Digest.feed` digests a value already in that form (one decoded from a message).
So the runner's digest of a live value and the judge's digest of the same value
decoded from a message agree, and two values that travel as the same bytes have the
same digest.  Every node carries its type and every list its length, so no two
different values feed the same bytes.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import numpy as np

from grader.protocol.wire import _DTYPES, MAX_DEPTH, NUMERIC_KINDS, Decoder, Encoder, \
    generator_state, make_generator, pack_value

SIZE = 16
_DOUBLE = struct.Struct("<d")


class HasCallable(Exception):
    """The arguments hold a callable: the call goes to the judge (it can invoke it)."""


def _refuse(v: Any) -> str | None:
    if callable(v) and not isinstance(v, type):
        raise HasCallable()
    return None


class Digest:
    """One digest, fed by walks over values; ``rngs`` collects (original, copy) pairs of
    the Generators :meth:`copy` meets, in order.  With ``callables=False`` a callable in
    the value raises :class:`HasCallable` (as one among arguments must)."""

    __slots__ = ("_h", "rngs", "_callables")

    def __init__(self, rngs: list[tuple[Any, Any]] | None = None,
                 callables: bool = True) -> None:
        self._h = hashlib.blake2b(digest_size=SIZE)
        self.rngs = rngs
        self._callables = callables

    def digest(self) -> bytes:
        return self._h.digest()

    def states(self, states: list[Any]) -> Digest:
        """Feed the Generators' states after a call (part of what the call gave)."""
        self._h.update(b"r" + pack_value(states))
        return self

    # ------------------------------------------------------------------ walks
    def copy(self, v: Any, depth: int = 0) -> Any:
        """A fresh copy of ``v`` as it would arrive across the wire, digested."""
        t = type(v)
        u = self._h.update
        if t is float:
            u(b"f" + _DOUBLE.pack(v))
            return v
        if t is int or t is str or t is bool or v is None:
            self._scalar(v, t)
            return v
        if t is np.ndarray and v.dtype.str in _DTYPES and v.dtype.kind in NUMERIC_KINDS:
            c = v.copy(order="C")
            u(b"a%s%s" % (c.dtype.str.encode(), str(c.shape).encode()))
            u(c)
            return c
        if depth < MAX_DEPTH:
            if t is list:
                u(b"[%d." % len(v))
                return [self.copy(x, depth + 1) for x in v]
            if t is tuple:
                u(b"(%d." % len(v))
                return tuple([self.copy(x, depth + 1) for x in v])
            if t is dict and all(type(k) is str for k in v):
                u(b"{%d." % len(v))
                out = {}
                for k, x in v.items():
                    self._scalar(k, str)
                    out[k] = self.copy(x, depth + 1)
                return out
            if t is np.random.Generator:
                c = make_generator(generator_state(v))
                if self.rngs is not None:
                    self.rngs.append((v, c))
                u(b"g" + pack_value(generator_state(c)))
                return c
        tree = Encoder(callable_name=None if self._callables else _refuse).encode(v)
        c = Decoder().decode(tree)
        self.feed(c, depth)
        return c

    def feed(self, v: Any, depth: int = 0) -> None:
        """Digest ``v``, already in the form values arrive in (nothing is copied)."""
        t = type(v)
        u = self._h.update
        if t is float:
            u(b"f" + _DOUBLE.pack(v))
        elif t is int or t is str or t is bool or v is None:
            self._scalar(v, t)
        elif t is np.ndarray and v.dtype.str in _DTYPES and v.dtype.kind in NUMERIC_KINDS:
            c = v if v.flags.c_contiguous else v.copy(order="C")
            u(b"a%s%s" % (c.dtype.str.encode(), str(c.shape).encode()))
            u(c)
        elif depth < MAX_DEPTH and t is list:
            u(b"[%d." % len(v))
            for x in v:
                self.feed(x, depth + 1)
        elif depth < MAX_DEPTH and t is tuple:
            u(b"(%d." % len(v))
            for x in v:
                self.feed(x, depth + 1)
        elif depth < MAX_DEPTH and t is dict and all(type(k) is str for k in v):
            u(b"{%d." % len(v))
            for k, x in v.items():
                self._scalar(k, str)
                self.feed(x, depth + 1)
        elif depth < MAX_DEPTH and t is np.random.Generator:
            u(b"g" + pack_value(generator_state(v)))
        else:  # what has no plain form (an opaque object, a dict keyed by tuples)
            u(b"w" + pack_value(Encoder().encode(v)))

    def _scalar(self, v: Any, t: type) -> None:
        if t is str:
            b = v.encode("utf-8", "surrogatepass")
            self._h.update(b"s%d." % len(b) + b)
        elif t is int:
            self._h.update(b"i%d." % v)
        elif v is None:
            self._h.update(b"N")
        else:
            self._h.update(b"T" if v else b"F")


def of_message(tree: Any) -> bytes:
    """The digest of a value decoded from a message's (unpacked) tree."""
    d = Digest()
    d.feed(Decoder().decode(tree))
    return d.digest()
