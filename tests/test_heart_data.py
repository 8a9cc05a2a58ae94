"""Checks on data/Heart.csv, the lecture's "Heart" data set (see data/README.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
HEART = DATA_DIR / "Heart.csv"

HEADER = "Age,Sex,ChestPain,RestBP,Chol,Fbs,RestECG,MaxHR,ExAng,Oldpeak,Slope,Ca,Thal,AHD"
FIRST_FIVE = [
    "63,1,typical,145,233,1,2,150,0,2.3,3,0.0,fixed,No",
    "67,1,asymptomatic,160,286,0,2,108,1,1.5,2,3.0,normal,Yes",
    "67,1,asymptomatic,120,229,0,2,129,1,2.6,2,2.0,reversable,Yes",
    "37,1,nonanginal,130,250,0,0,187,0,3.5,3,0.0,normal,No",
    "41,0,nontypical,130,204,0,2,172,0,1.4,1,0.0,normal,No",
]
ADDED_ROW = "60,0,asymptomatic,158,305,0,2,161,0,0.0,1,0.0,normal,Yes"  # UCI record 185
DEDUPED_ROW = "38,1,nonanginal,138,175,0,0,173,0,0.0,1,,normal,No"  # UCI record 303


@pytest.fixture(scope="module")
def raw() -> bytes:
    return HEART.read_bytes()


@pytest.fixture(scope="module")
def lines(raw: bytes) -> list[str]:
    return raw.decode("utf-8").split("\n")


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    return pd.read_csv(HEART)


def test_utf8_without_bom_and_lf_endings(raw: bytes) -> None:
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")  # raises if not UTF-8
    assert b"\r" not in raw
    assert raw.endswith(b"\n") and not raw.endswith(b"\n\n")


def test_header_and_row_count(lines: list[str]) -> None:
    assert lines[0] == HEADER
    assert lines[-1] == ""  # trailing newline
    assert len(lines[1:-1]) == 303


def test_first_five_rows_exactly(lines: list[str]) -> None:
    assert lines[1:6] == FIRST_FIVE


def test_row_fixes(lines: list[str]) -> None:
    rows = lines[1:-1]
    assert len(set(rows)) == 303  # no duplicate rows left
    assert rows[185 - 1] == ADDED_ROW
    assert rows.count(DEDUPED_ROW) == 1 and rows[-1] == DEDUPED_ROW


def test_number_formats(lines: list[str]) -> None:
    int_columns = [0, 1, 3, 4, 5, 6, 7, 8, 10]
    for row in lines[1:-1]:
        fields = row.split(",")
        assert len(fields) == 14
        for i in int_columns:
            assert fields[i].isdigit(), row
        for i in (9, 11):  # Oldpeak, Ca: one decimal (Ca may be empty)
            if fields[i]:
                whole, _, frac = fields[i].partition(".")
                assert whole.isdigit() and len(frac) == 1 and frac.isdigit(), row


def test_levels(heart: pd.DataFrame) -> None:
    assert list(heart.columns) == HEADER.split(",")
    assert set(heart.ChestPain) == {"typical", "asymptomatic", "nonanginal", "nontypical"}
    assert set(heart.Thal.dropna()) == {"fixed", "normal", "reversable"}
    assert set(heart.RestECG) == {0, 1, 2}
    assert set(heart.Slope) == {1, 2, 3}
    assert set(heart.Ca.dropna()) == {0.0, 1.0, 2.0, 3.0}


def test_counts_and_missing(heart: pd.DataFrame) -> None:
    assert heart.AHD.value_counts().to_dict() == {"No": 164, "Yes": 139}
    missing = heart.isna().sum()
    assert missing["Ca"] == 4
    assert missing["Thal"] == 2
    assert missing.drop(["Ca", "Thal"]).sum() == 0


def test_maxhr_mean(heart: pd.DataFrame) -> None:
    assert round(heart.MaxHR.mean(), 6) == 149.607261


def _logistic_newton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logistic regression of y on x (with intercept), Newton's method."""
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        gradient = design.T @ (y - p)
        hessian = design.T @ (design * (p * (1.0 - p))[:, None])
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            return beta
    raise AssertionError("Newton's method did not converge")


def test_logistic_fit_ahd_on_maxhr(heart: pd.DataFrame) -> None:
    y = (heart.AHD == "Yes").to_numpy(dtype=float)
    intercept, slope = _logistic_newton(heart.MaxHR.to_numpy(dtype=float), y)
    assert intercept == pytest.approx(6.324950, abs=1e-6)
    assert slope == pytest.approx(-0.043411, abs=1e-6)


def _load_make_heart():
    spec = importlib.util.spec_from_file_location("make_heart", DATA_DIR / "make_heart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conversion_mapping_on_kaggle_rows() -> None:
    """The script's recoding, on the first Kaggle-coded rows of the source."""
    make_heart = _load_make_heart()
    kaggle = pd.DataFrame(
        [
            [63, 1, 3, 145, 233, 1, 0, 150, 0, 2.3, 0, 0, 1, 1],
            [37, 1, 2, 130, 250, 0, 1, 187, 0, 3.5, 0, 0, 2, 1],
            [41, 0, 1, 130, 204, 0, 0, 172, 0, 1.4, 2, 0, 2, 1],
            [38, 1, 2, 138, 175, 0, 1, 173, 0, 0.0, 2, 4, 2, 1],
            [67, 1, 0, 160, 286, 0, 0, 108, 1, 1.5, 1, 3, 2, 0],
            [55, 0, 0, 180, 327, 0, 2, 117, 1, 3.4, 1, 0, 0, 0],
        ],
        columns=make_heart.KAGGLE_COLUMNS,
    )
    assert make_heart.convert(kaggle) == [
        FIRST_FIVE[0],
        FIRST_FIVE[3],
        FIRST_FIVE[4],
        DEDUPED_ROW,
        FIRST_FIVE[1],
        "55,0,asymptomatic,180,327,0,1,117,1,3.4,2,0.0,,Yes",
    ]


def test_uci_sequence_matches_file(heart: pd.DataFrame) -> None:
    make_heart = _load_make_heart()
    assert "".join(heart.AHD.str[0]) == make_heart.UCI_AHD_SEQUENCE
