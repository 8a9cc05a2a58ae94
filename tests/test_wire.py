"""Decoding what a message carries (grader.protocol.wire): what comes back is what was
sent, and what is forged or too large is a WireError, never a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grader.protocol import wire


def _travel(v: object) -> object:
    tree = wire.unpack_value(wire.pack_value(wire.Encoder(dataframes=True).encode(v)))
    return wire.Decoder(allow_dataframe=True).decode(tree)


def test_a_data_frame_arrives_as_it_left():
    df = pd.DataFrame({"Age": [63, 37], "Sex": ["m", None], "Chol": [233.5, np.nan],
                       "Thal": pd.array(["fixed", "normal"], dtype="string")})
    got = _travel(df)
    assert list(got.columns) == list(df.columns)
    assert got["Age"].tolist() == [63, 37] and got["Sex"].isna().tolist() == [False, True]
    assert got["Thal"].tolist() == ["fixed", "normal"]
    # a column named twice (only a forged message has one) is built as pandas builds it
    forged = {"__df__": {"columns": ["a", "a"], "data": [[1], [2]]}}
    got = wire.Decoder(allow_dataframe=True).decode(forged)
    assert list(got.columns) == ["a", "a"]


def test_a_list_of_plain_values_is_a_fresh_list_and_counts_toward_the_caps():
    tree = [1, 2.5, "x", None, True]
    got = wire.Decoder().decode(tree)
    assert got == tree and got is not tree
    assert wire.Decoder().decode([[1.0, 2.0], [3.0]]) == [[1.0, 2.0], [3.0]]
    dec = wire.Decoder()
    dec.nodes = wire.MAX_NODES - 2
    with pytest.raises(wire.WireError):
        dec.decode([0.5] * 10)
    deep: list = [1.0]
    for _ in range(wire.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(wire.WireError):
        wire.Decoder().decode(deep)
