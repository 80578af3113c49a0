"""The cells of one column of a log, read all at once: the number in each and what kind of cell it was.

A cell is a number (`0.41`, `nan`, `inf`), empty, a missing-value token (`NA`, `null`, `none`: Keras
writes NA for keys an interrupted epoch did not log), a number in percent (`81.2%`), or text. numpy
arrays hold one entry per row, so that a log of millions of rows is judged without a Python loop per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.wording import first_and_more

MISSING = {"", "na", "n/a", "null", "none"}  # Keras writes NA for keys an interrupted epoch did not log
# Kinds of cell. NUMBER: float(cell) reads it; EMPTY: blank; NA: a token of MISSING; PERCENT: a number
# with a trailing %; NA_PERCENT: a token of MISSING with a trailing % (read as missing); TEXT: none of these.
NUMBER, EMPTY, NA, PERCENT, NA_PERCENT, TEXT = range(6)
# Cells numpy and pandas read exactly as Python's float() does; any other cell is read one distinct text at a time.
PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


@dataclass
class Cells:
    """One column: per row the number read (NaN where none) and the kind of cell."""

    values: np.ndarray  # float64; a trailing % dropped (`81%` is 81.0); NaN where the cell holds no number
    kinds: np.ndarray  # int8, one of NUMBER ... TEXT
    raw: pd.Series | None = None  # the cells as text, kept for a column read as text (labels, messages)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def blank(self) -> np.ndarray:
        """The cell, stripped and lower-cased, is one of MISSING (`""`, `NA`, ...)."""
        return (self.kinds == EMPTY) | (self.kinds == NA)

    @property
    def missing(self) -> np.ndarray:
        """No value logged: blank, or a token of MISSING with a trailing %."""
        return self.blank | (self.kinds == NA_PERCENT)

    @property
    def present(self) -> np.ndarray:
        """A value was logged (a number, in percent or not; `nan` counts: it was logged)."""
        return (self.kinds == NUMBER) | (self.kinds == PERCENT)

    def take(self, rows: np.ndarray | slice) -> Cells:
        raw = None if self.raw is None else self.raw.iloc[rows].reset_index(drop=True)
        return Cells(self.values[rows], self.kinds[rows], raw)


def kind_of(cell: str) -> tuple[int, float]:
    """(kind, number) of one cell, as the reader's rules have it: `float(cell)`, else `81%`, else missing or text."""
    stripped = cell.strip()
    if not stripped:
        return EMPTY, math.nan
    if stripped.lower() in MISSING:
        return NA, math.nan
    try:
        return NUMBER, float(cell)
    except ValueError:
        pass
    text = stripped.rstrip("%")
    if text.lower() in MISSING:
        return NA_PERCENT, math.nan
    try:
        return PERCENT, float(text)
    except ValueError:
        return TEXT, math.nan


def from_numbers(values: np.ndarray) -> Cells:
    """A column pandas read as numbers: NaN there is an empty cell (a `nan` cell makes pandas read text)."""
    values = np.asarray(values, dtype=np.float64)
    kinds = np.where(np.isnan(values), EMPTY, NUMBER).astype(np.int8)
    return Cells(values, kinds)


def from_strings(cells: pd.Series) -> Cells:
    """A column of text cells (NaN: an empty cell): plain numbers converted at once, other texts one distinct text at a time."""
    text = cells.astype("str").reset_index(drop=True)  # NaN stays NaN
    plain = text.str.fullmatch(PLAIN_NUMBER).fillna(False).to_numpy(dtype=bool)
    values = np.full(len(text), math.nan)
    if plain.any():
        values[plain] = text[plain].astype("float64").to_numpy()
    kinds = np.full(len(text), NUMBER, dtype=np.int8)
    others = np.flatnonzero(~plain)
    if len(others):
        codes, uniques = pd.factorize(text.iloc[others], use_na_sentinel=True)
        read = [kind_of(str(u)) for u in uniques] + [(EMPTY, math.nan)]  # code -1 (NaN) takes the last entry
        kinds[others] = np.array([k for k, _ in read], dtype=np.int8)[codes]
        values[others] = np.array([v for _, v in read], dtype=np.float64)[codes]
    return Cells(values, kinds, text)


def empty_cells(rows: int) -> Cells:
    return Cells(np.full(rows, math.nan), np.full(rows, EMPTY, dtype=np.int8))


def first(mask: np.ndarray) -> int | None:
    """The index of the first True, None without one."""
    if not len(mask):
        return None
    index = int(np.argmax(mask))
    return index if mask[index] else None


def listed(items: Sequence[int] | np.ndarray, limit: int = 8, last: str = "") -> str:
    """`2, 5, 9`, or the first `limit` and how many more; `last`: the word before the last of a short list."""
    shown = [str(int(i)) for i in items[: limit + 1]]
    if len(items) > limit:
        return first_and_more(shown + [""] * (len(items) - len(shown)), limit)
    if last and len(shown) > 1:
        return ", ".join(shown[:-1]) + f" {last} {shown[-1]}"
    return ", ".join(shown)
