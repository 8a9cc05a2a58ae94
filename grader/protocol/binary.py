"""A value's JSON form (arrays as base64 text, as in the cases files) turned into its
message form (arrays as bytes) directly: the judge sends a case's arguments without
building them, so it makes no DataFrame (and needs no pandas) to send one."""

from __future__ import annotations

from typing import Any

from grader.protocol.wire import MAX_DEPTH, WireError, _load_array


def to_binary(tree: Any, depth: int = 0) -> Any:
    """A tree in its JSON form (arrays as base64 text, as in the cases files) in its
    message form (arrays as bytes), without building the values it holds (a DataFrame,
    a Generator); each array's data is checked as :class:`~grader.protocol.wire.Decoder`
    checks it."""
    if depth > MAX_DEPTH:
        raise WireError("the value is too deeply nested")
    t = type(tree)
    if t is list:
        return [to_binary(x, depth + 1) for x in tree]
    if t is not dict:
        return tree
    if len(tree) == 1 and "__nd__" in tree:
        body = tree["__nd__"]
        if isinstance(body, list) and len(body) == 3 and isinstance(body[2], str):
            arr = _load_array(body)
            return {"__nd__": [body[0], list(body[1]), arr.tobytes()]}
        return tree
    return {k: to_binary(v, depth + 1) for k, v in tree.items()}

