"""Fresh copies of values, and digests of them: how a runner logs its own helpers' calls.

A submission's own helper stands in for the judge's substitute only while it does
exactly what the reference does.  The runner checks nothing itself; it logs each call
as two digests, of what the call was given (its arguments, and what each call of a
callable among them returned) and of what it gave (what it passed those calls, its
value, the states it left its Generators in), and the judge looks them up in what it
learned of the reference's answers (:mod:`grader.judge.replies`).  32 bytes a call
travel back, however large the arrays: no argument or value is encoded, packed or sent.

A digest is BLAKE2b-128 of a canonical walk of the value *as it arrives across the
wire*: :meth:`Digest.copy` makes that form (equal to ``decode(encode(v))``, see
:mod:`grader.protocol.wire`, without the round trip) and digests it in the same walk;
:meth:`Digest.feed` digests a value already in that form (one decoded from a message).
So the runner's digest of a live value and the judge's digest of the same value
decoded from a message agree, and two values that travel as the same bytes have the
same digest.  Every node but a plain number, string, None or boolean is tagged and
every list, tuple and dict carries its length, so no two different values give the
same tokens.  A runner may forge its log, but gains nothing by it: the log only decides
whether the call's result stands or the call runs again with the reference's helpers,
and the result is judged either way.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import msgpack
import numpy as np

from grader.protocol.wire import _DTYPES, _INT_MAX, _INT_MIN, MAX_DEPTH, NUMERIC_KINDS, \
    Decoder, Encoder, RemoteCallable, generator_state, make_generator

SIZE = 16
_ATOMS = frozenset((float, int, str, bool, type(None)))
_ARRAY = {dt: dt.str for dt in _DTYPES.values() if dt.kind in NUMERIC_KINDS}  # travels as is
_PACK = msgpack.Packer(use_bin_type=True, unicode_errors="surrogatepass").pack


class Slot:
    """A callable among a call's arguments, where the runner passes it on: numbered in
    the order the arguments hold callables, it digests as its number (the judge's
    :class:`~grader.protocol.wire.RemoteCallable` in the same place digests alike)."""

    __slots__ = ("fn", "number")

    def __init__(self, fn: Callable[..., Any], number: int) -> None:
        self.fn, self.number = fn, number

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


class Digest:
    """One digest, fed by walks over values; ``rngs`` collects (original, copy) pairs of
    the Generators :meth:`copy` meets, in order.  A callable that :meth:`copy` meets
    becomes a :class:`Slot` around ``watch(callable, number)`` (without ``watch``, an
    opaque object, as the wire makes it).

    A walk puts tokens in a list: plain numbers, strings, None and booleans as
    themselves, everything else behind a ``bytes`` tag (a value is never ``bytes`` in
    its plain form), so the tokens spell the value in one way only; the digest is of
    the tokens, packed (the walk stays in Python only per node, never per number).
    Tokens may be added between walks (``tokens``), as a tag and what follows.
    """

    __slots__ = ("tokens", "rngs", "watch", "slots")

    def __init__(self, rngs: list[tuple[Any, Any]] | None = None,
                 watch: Callable[[Callable[..., Any], int], Callable[..., Any]] | None = None
                 ) -> None:
        self.tokens: list[Any] = []
        self.rngs = rngs
        self.watch = watch
        self.slots: list[Any] = []  # the callables met, in order (the judge's: their names)

    def digest(self) -> bytes:
        return hashlib.blake2b(_PACK(self.tokens), digest_size=SIZE).digest()

    def states(self, states: list[Any]) -> Digest:
        """Feed the Generators' states after a call (part of what the call gave)."""
        self.tokens += [b"r", states]
        return self

    def copy(self, v: Any) -> Any:
        """A fresh copy of ``v`` as it would arrive across the wire, digested."""
        return _copy(v, self.tokens, self, 0)

    def feed(self, v: Any) -> None:
        """Digest ``v``, already in the form values arrive in (nothing is copied)."""
        _feed(v, self.tokens, self, 0)

    def _name(self, fn: Any) -> str | None:
        """The wire's name for a callable met in a copy: its slot."""
        if self.watch is None or not callable(fn) or isinstance(fn, type):
            return None
        number = len(self.slots)
        self.slots.append(Slot(self.watch(fn, number), number))
        return f"slot {number}"

    def _slot(self, name: str) -> Any:
        head, _, number = name.partition(" ")
        if head == "slot" and number.isdigit() and int(number) < len(self.slots):
            return self.slots[int(number)]
        return RemoteCallable(name)


class CallDigests:
    """The two digests a call is logged and looked up by: of what it was given (its
    arguments, then what each call of a callable among them returned) and of what it
    gave (what it passed each such call, then its value and the generator states
    after).  The runner makes them of live values (``copy``: the copies the call runs on
    come from the same walk), the judge of the same values decoded from messages."""

    __slots__ = ("given", "gave")

    def __init__(self, rngs: list[tuple[Any, Any]] | None = None,
                 watch: Callable[[Callable[..., Any], int], Callable[..., Any]] | None = None
                 ) -> None:
        self.given = Digest(rngs, watch)
        self.gave = Digest()

    def passed(self, slot: int, args: Any, copy: bool = True) -> Any:
        """What the call passed the callable in ``slot`` (a copy of it, with ``copy``)."""
        self.gave.tokens.extend((b"i", slot))
        return self.gave.copy(args) if copy else self.gave.feed(args)

    def returned(self, slot: int, value: Any, copy: bool = True) -> Any:
        """What the callable in ``slot`` gave back (a copy of it, with ``copy``)."""
        self.given.tokens.extend((b"v", slot))
        return self.given.copy(value) if copy else self.given.feed(value)

    def pair(self, states: list[Any]) -> tuple[bytes, bytes]:
        """(given, gave), the generator states after the call fed last."""
        return self.given.digest(), self.gave.states(states).digest()


def _atom(v: Any, t: type, out: list[Any]) -> None:
    """A number, string, None or boolean as itself (an integer beyond what MessagePack
    carries, tagged, as its digits)."""
    if t is int and not _INT_MIN <= v <= _INT_MAX:
        out += [b"I", str(v)]
    else:
        out.append(v)


def _copy(v: Any, out: list[Any], d: Digest, depth: int) -> Any:
    t = type(v)
    if t in _ATOMS:
        _atom(v, t, out)
        return v
    if t is np.ndarray:
        dtype = _ARRAY.get(v.dtype)
        if dtype is not None:
            c = v.copy()
            out += [b"a", dtype, c.shape, c.data]
            return c
    elif depth < MAX_DEPTH:
        if t is list:
            out += [b"[", len(v)]
            return [_copy(x, out, d, depth + 1) for x in v]
        if t is tuple:
            out += [b"(", len(v)]
            return tuple([_copy(x, out, d, depth + 1) for x in v])
        if t is dict:
            mark = len(out)
            out += [b"{", len(v)]
            copied = {}
            for k, x in v.items():
                if type(k) is not str:
                    del out[mark:]  # keyed otherwise: in the wire's own form, below
                    break
                out.append(k)
                copied[k] = _copy(x, out, d, depth + 1)
            else:
                return copied
        elif t is np.random.Generator:
            c = make_generator(generator_state(v))
            if d.rngs is not None:
                d.rngs.append((v, c))
            out += [b"g", generator_state(c)]
            return c
    # the wire's own way (a callable the runner keeps becomes a slot, as the judge's
    # proxy would have named it a handle)
    c = Decoder(on_callable=d._slot).decode(Encoder(callable_name=d._name).encode(v))
    _feed(c, out, d, depth)
    return c


def _feed(v: Any, out: list[Any], d: Digest, depth: int) -> None:
    t = type(v)
    if t in _ATOMS:
        _atom(v, t, out)
        return
    if t is np.ndarray:
        dtype = _ARRAY.get(v.dtype)
        if dtype is not None:
            c = v if v.flags.c_contiguous else v.copy()
            out += [b"a", dtype, c.shape, c.data]
            return
    elif depth < MAX_DEPTH:
        if t is list or t is tuple:
            out += [b"[" if t is list else b"(", len(v)]
            for x in v:
                _feed(x, out, d, depth + 1)
            return
        if t is dict and all(type(k) is str for k in v):
            out += [b"{", len(v)]
            for k, x in v.items():
                out.append(k)
                _feed(x, out, d, depth + 1)
            return
        if t is np.random.Generator:
            out += [b"g", generator_state(v)]
            return
    if t is Slot:
        out += [b"c", v.number]
    elif t is RemoteCallable:  # as the judge decodes a callable of the runner's
        out += [b"c", len(d.slots)]
        d.slots.append(v.name)
    else:  # what has no plain form (an opaque object, a dict keyed by tuples): its wire form
        out += [b"w", Encoder().encode(v)]


def of_message(tree: Any) -> bytes:
    """The digest of a value decoded from a message's (unpacked) tree."""
    d = Digest()
    d.feed(Decoder().decode(tree))
    return d.digest()
