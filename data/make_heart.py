"""Build data/Heart.csv (the lecture's "Heart" data set, ISLR layout) from the
UCI Cleveland heart-disease data as shipped inside the PyPI package pingouin 0.7.0.

Source
------
The UCI Cleveland heart-disease data (303 patients; CC BY 4.0; credit:
Andras Janosi, William Steinbrunn, Matthias Pfisterer and Robert Detrano).
pingouin 0.7.0 ships a copy in the Kaggle coding as
``pingouin/datasets/chi2_independence.csv`` (UTF-8 with a byte-order mark).
Fetch it without installing pingouin (it is NOT a dependency of this project)::

    pip download --no-deps pingouin==0.7.0 -d /tmp/pg

then run either of::

    python data/make_heart.py /tmp/pg/pingouin-0.7.0-py3-none-any.whl
    python data/make_heart.py path/to/chi2_independence.csv   # unzipped from the wheel

The script writes data/Heart.csv next to itself (or to ``-o PATH``); the output
is byte-identical on every run. It refuses a source file whose SHA-256 differs
from the one it was written for, because the row fixes and the row order below
are specific to that copy.

What it does (see data/README.md for the full story)
----------------------------------------------------
1. Recode the Kaggle columns to the ISLR layout (``KAGGLE_TO_ISLR`` below).
2. Drop the one exact duplicate row of the Kaggle copy
   (``38,1,nonanginal,138,175,0,0,173,0,0,1,,normal,No``).
3. Add the record the Kaggle copy lacks (``MISSING_ROW``, UCI record 185).
4. Restore the original UCI Cleveland record order. The Kaggle copy is the UCI
   file stably sorted by ``target`` (all "No" rows, then all "Yes" rows, each
   group in UCI order), so the UCI order is recovered by interleaving the two
   groups along ``UCI_AHD_SEQUENCE``: the diagnosis (AHD) of UCI records 1..303.

Only the standard library and pandas are used.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import sys
import zipfile
from pathlib import Path

import pandas as pd

#: SHA-256 of pingouin 0.7.0's pingouin/datasets/chi2_independence.csv (with its BOM).
SOURCE_SHA256 = "e31e52eb5ee890c1a11a3baef3df95e8174718d5b94b0a8b77665ec3c07328ff"
WHEEL_MEMBER = "pingouin/datasets/chi2_independence.csv"

COLUMNS = [
    "Age", "Sex", "ChestPain", "RestBP", "Chol", "Fbs", "RestECG",
    "MaxHR", "ExAng", "Oldpeak", "Slope", "Ca", "Thal", "AHD",
]
KAGGLE_COLUMNS = [
    "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg",
    "thalach", "exang", "oldpeak", "slope", "ca", "thal", "target",
]

#: Kaggle code -> ISLR value for the recoded columns. A code that is a key with
#: value None becomes a missing value; a code that is not a key is an error.
RECODE: dict[str, dict[int, object]] = {
    "cp": {0: "asymptomatic", 1: "nontypical", 2: "nonanginal", 3: "typical"},
    "restecg": {0: 2, 1: 0, 2: 1},
    "slope": {0: 3, 1: 2, 2: 1},
    "ca": {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: None},
    "thal": {0: None, 1: "fixed", 2: "normal", 3: "reversable"},
    "target": {1: "No", 0: "Yes"},  # inverted: Kaggle target 1 = no heart disease
}
#: Kaggle column -> ISLR column (same order as COLUMNS).
KAGGLE_TO_ISLR = dict(zip(KAGGLE_COLUMNS, COLUMNS))

#: The row (ISLR layout) that appears twice in the Kaggle copy; UCI record 303.
DUPLICATE_ROW = "38,1,nonanginal,138,175,0,0,173,0,0.0,1,,normal,No"
#: The row (ISLR layout) the Kaggle copy lacks, and its 1-based UCI record number.
MISSING_ROW = "60,0,asymptomatic,158,305,0,2,161,0,0.0,1,0.0,normal,Yes"
MISSING_ROW_RECORD = 185

#: AHD of the UCI Cleveland records 1..303 in file order (N = No, Y = Yes),
#: i.e. whether the UCI "num" field is > 0; 50 records per line.
UCI_AHD_SEQUENCE = (
    "NYYNNNYNYYNNYNNNYNNNNNYYYNNNNYNYYNNNYYYNYNNNYYNYNN"  # records   1- 50
    "NNYNYYYYNNYNYNYYYNYYNYYYYNYNNYNNNYNNNNNNNYNNNYYYNN"  # records  51-100
    "NNNNYNYYYYYYNYYNNNYYYYNYYNYYNNNNNNNNYYYNNYNYNYYNNN"  # records 101-150
    "NNNYYYYYYNNYNNNNNNYNYNYNYYNYNNYYNNYNNYYYNYYYNYNNNY"  # records 151-200
    "NNNNNYYYNYNYNYYNNNNNNNNYYNNNYYNYYNNYYYNNNNNYNYYYYN"  # records 201-250
    "NYNNNNNNNYNYNNYYYYYNYNYNYNNNYNYNYNYYYNNNYNYYYNYYYY"  # records 251-300
    "YYN"                                                 # records 301-303
)


def read_source_bytes(path: Path) -> bytes:
    """Return the bytes of chi2_independence.csv, from the CSV itself or the wheel."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            return wheel.read(WHEEL_MEMBER)
    return path.read_bytes()


def _fmt(column: str, value: object) -> str:
    """Format one value the ISLR way: Oldpeak and Ca with one decimal, others plain."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in ("Oldpeak", "Ca"):
        number = float(value)  # type: ignore[arg-type]
        if round(number * 10) != number * 10:
            raise ValueError(f"{column}={number!r} has more than one decimal")
        return f"{number:.1f}"
    if isinstance(value, str):
        return value
    return str(int(value))  # type: ignore[call-overload]


def convert(kaggle: pd.DataFrame) -> list[str]:
    """Recode a Kaggle-coded frame into ISLR-layout CSV lines (no header), row by row."""
    if list(kaggle.columns) != KAGGLE_COLUMNS:
        raise ValueError(f"unexpected columns: {list(kaggle.columns)}")
    lines = []
    for record in kaggle.itertuples(index=False):
        fields = []
        for kcol, icol, raw in zip(KAGGLE_COLUMNS, COLUMNS, record):
            value: object = raw
            if kcol in RECODE:
                code = int(raw)
                if code != raw or code not in RECODE[kcol]:
                    raise ValueError(f"unknown code {kcol}={raw!r}")
                value = RECODE[kcol][code]
            elif kcol != "oldpeak" and int(raw) != raw:
                raise ValueError(f"non-integer {kcol}={raw!r}")
            fields.append(_fmt(icol, value))
        lines.append(",".join(fields))
    return lines


def restore_uci_order(lines: list[str]) -> list[str]:
    """Fix the two row defects and interleave the AHD groups back into UCI order."""
    dupes = [line for line in set(lines) if lines.count(line) > 1]
    if dupes != [DUPLICATE_ROW] or lines.count(DUPLICATE_ROW) != 2:
        raise ValueError(f"expected exactly one duplicated row {DUPLICATE_ROW!r}, got {dupes}")
    if MISSING_ROW in lines:
        raise ValueError("the supposedly missing row is already present")
    first = lines.index(DUPLICATE_ROW)
    lines = lines[:first] + lines[first + 1:]

    groups = {
        "N": [line for line in lines if line.endswith(",No")],
        "Y": [line for line in lines if line.endswith(",Yes")],
    }
    # The Kaggle copy is sorted by target: it must be one block of No, then one of Yes.
    if lines != groups["N"] + groups["Y"]:
        raise ValueError("source is not grouped as No-block then Yes-block")
    if UCI_AHD_SEQUENCE[MISSING_ROW_RECORD - 1] != "Y":
        raise AssertionError("UCI_AHD_SEQUENCE disagrees with MISSING_ROW")

    queues = {key: iter(group) for key, group in groups.items()}
    out = []
    for record, ahd in enumerate(UCI_AHD_SEQUENCE, start=1):
        if record == MISSING_ROW_RECORD:
            out.append(MISSING_ROW)
            continue
        line = next(queues[ahd], None)
        if line is None:
            raise ValueError(f"ran out of {ahd} rows at UCI record {record}")
        out.append(line)
    leftovers = [line for queue in queues.values() for line in queue]
    if leftovers or len(out) != 303:
        raise ValueError(f"row counts do not match the UCI sequence ({len(leftovers)} left)")
    return out


def build(source: bytes) -> str:
    """Return the complete text of Heart.csv for the given chi2_independence.csv bytes."""
    kaggle = pd.read_csv(io.BytesIO(source), encoding="utf-8-sig")
    rows = restore_uci_order(convert(kaggle))
    return "".join(line + "\n" for line in [",".join(COLUMNS), *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path,
                        help="chi2_independence.csv or pingouin-0.7.0-py3-none-any.whl")
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).resolve().parent / "Heart.csv",
                        help="where to write (default: data/Heart.csv next to this script)")
    args = parser.parse_args(argv)

    source = read_source_bytes(args.source)
    digest = hashlib.sha256(source).hexdigest()
    if digest != SOURCE_SHA256:
        print(f"error: {args.source}: SHA-256 {digest} is not that of pingouin 0.7.0's "
              f"{WHEEL_MEMBER} ({SOURCE_SHA256})", file=sys.stderr)
        return 1
    text = build(source)
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    print(f"wrote {args.output} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
