"""The judge's answers to a runner's callbacks (the reference standing in for a graded
function, the grader's callables), kept by the exact bytes of their arguments; and the
check of a log of the submission's own helpers' calls against the reference's answers,
learned by digest (:mod:`grader.protocol.digest`) from calls run with substitutes.
"""

from __future__ import annotations

from typing import Any, Callable

from grader.judge.calls import StudentCallableError
from grader.judge.memory import Memory
from grader.protocol import digest, wire
from grader.protocol.channel import ChannelClosed, ChannelTimeout

Invoker = Callable[[str], Callable[..., Any]]


def answer(memory: Memory, fn: Callable[..., Any], name: str, payload: bytes, label: str,
           invoker: Invoker | None = None, case: str | None = None,
           learn: bool = False) -> dict[str, Any]:
    """``fn``'s answer to a callback, as a ``reply`` message; with ``learn``, also kept by
    digest (:func:`learned`), for own-helper logs to be checked against.

    The reference and the grader's callables are deterministic: the same arguments get
    the same reply, so replies are kept in ``memory`` (per case for the grader's
    callables, ``case``), keyed by the packed arguments.  Arguments that hold a student
    callable are kept with the calls ``fn`` made of it and what they returned: the reply
    holds again when the student's callable, called the same way, returns the same again
    (checked by calling it: :func:`replayed`).
    """
    key = hit = None
    via = b"__callable__" in payload
    if not via or (case is None and invoker is not None):
        key = (name, payload) if case is None else (case, name, payload)
        hit = memory.reply(key)
        if hit is not None and not via:
            return learned(memory, name, payload, hit) if learn else hit
    log: list[list[Any]] = []
    dec = wire.Decoder(on_callable=recording(invoker, log) if via and key else invoker,
                       allow_dataframe=True)
    try:
        if hit is not None:  # through a student callable: it must do as it did then
            again = replayed(hit, invoker)
            if again is not None:
                return (learned(memory, name, payload, again, hit.get("invoked"))
                        if learn else again)
        args, kwargs = dec.decode(wire.unpack_value(payload))
        value = fn(*args, **dict(kwargs))
        reply = {"op": "reply", "value": wire.pack_value(wire.encode(value)),
                 "rng_states": [wire.generator_state(g) for g in dec.rngs]}
        if key is not None:
            memory.remember(key, {**reply, "invoked": log} if via else reply)
        return learned(memory, name, payload, reply, log) if learn else reply
    except (ChannelTimeout, ChannelClosed):
        raise
    except StudentCallableError as e:
        return {"op": "reply", "error": str(e)}
    except Exception as e:  # noqa: BLE001 - bad arguments from the student
        return {"op": "reply", "error": f"{label} failed on the arguments your code passed: "
                                        f"{type(e).__name__}: {str(e)[:300]}"}


def learned(memory: Memory, name: str, payload: bytes, reply: dict[str, Any],
            invoked: list[list[Any]] | None = None) -> dict[str, Any]:
    """``reply``, once the digests of its call are kept, as a runner's own ``name`` logs
    the same call (:class:`grader.runner.calls.Runner`): of what it was given (the
    arguments as they came, then what each call of a callable among them returned:
    ``invoked``, [handle, arguments, value] in order) and of what it gave (what it passed
    each such call, then the value and the generator states as they go back)."""
    if "error" not in reply and "fallback" not in reply:
        try:
            call = digest.CallDigests()
            call.given.feed(wire.Decoder().decode(wire.unpack_value(payload)))
            slot = {handle: k for k, handle in enumerate(call.given.slots)}
            for handle, args, value in invoked or []:
                call.passed(slot[handle], wire.Decoder().decode(wire.unpack_value(args)), False)
                call.returned(slot[handle], wire.Decoder().decode(wire.unpack_value(value)),
                              False)
            call.gave.feed(wire.Decoder().decode(wire.unpack_value(reply["value"])))
            memory.keep_digest(name, *call.pair(list(reply["rng_states"])))
        except (wire.WireError, KeyError, TypeError, ValueError):
            pass  # not kept: a log with this call does not check out, and runs again
    return reply


def own_mismatch(own: tuple[str, ...], log: Any, memory: Memory) -> str | None:
    """None when every logged call of the submission's own helpers (``own``: their
    names) gave what the reference gives on the same arguments: the digest of its value
    and generator states after is the one kept for the digest of its arguments (the
    same packed value, so the same types, shapes and bits), so the call ran exactly as
    it would have with substitutes.  Else the helper to blame: the first whose value
    differs on arguments the reference was seen to get, or else the last called on
    arguments it was not (a helper that passed its callable other arguments logs after
    the calls it made of it, whose arguments it chose)."""
    if not isinstance(log, list):
        return own[0] if own else None
    unknown = None
    for entry in log:
        if not (isinstance(entry, list) and len(entry) == 3 and entry[0] in own):
            return own[0]
        name, args, value = entry
        if not isinstance(args, bytes) or not isinstance(value, bytes):
            return str(name)
        known = memory.answered(name, args)
        if known is None:
            unknown = str(name)
        elif known != value:
            return str(name)
    return unknown


def recording(invoker: Invoker | None, log: list[list[Any]]) -> Invoker | None:
    """``invoker``, with each call of a student callable and its value kept in ``log``."""
    if invoker is None:
        return None

    def handle(name: str) -> Callable[..., Any]:
        fn = invoker(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            value = fn(*args, **kwargs)
            log.append([name, wire.pack_value(wire.encode([list(args), kwargs])),
                        wire.pack_value(wire.encode(value))])
            return value

        return call

    return handle


def replayed(kept: dict[str, Any], invoker: Invoker | None) -> dict[str, Any] | None:
    """A kept reply whose calls of the student's callable give what they gave then,
    called again in the same order; None at the first that does not."""
    if invoker is None:
        return None
    for handle, args, value in kept.get("invoked", []):
        a, k = wire.Decoder().decode(wire.unpack_value(args))
        got = invoker(str(handle))(*a, **dict(k))
        if wire.pack_value(wire.encode(got)) != value:
            return None
    return {k: v for k, v in kept.items() if k != "invoked"}
