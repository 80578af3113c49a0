"""What each column of a table is: number, boolean, category, date, identifier, free text, empty or constant;
which one is the target, which task it makes, and the profile the data picker shows.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.wording import first_and_more

MAX_CATEGORIES = 20  # one-hot columns per categorical feature; rarer values share one column


ROW_CAP = 100_000  # rows a CSV trains on; a bigger file trains on a seeded random sample of this many
MAX_CLASSES = 100  # more classes than this cannot be learned from a classroom-sized file
MIN_CLASS_ROWS = 3  # one row each for training, validation and test
DISTINCT_PER_ROW = 0.9  # share of distinct values from which a text column is an identifier or free text
# Preferred default targets, case-insensitive: the generic names, and the targets of the classroom
# classics (iris and penguins: species; titanic: survived).
TARGET_NAMES = ("target", "label", "class", "y", "outcome", "species", "survived")
LABEL_CLASSES = (2, 20)  # distinct values of a text/boolean column that reads as a label to predict
# The network computes in float32: a number beyond its range (or ±inf) cannot be one of its inputs or
# targets, and scikit-learn's scaling overflows on it. Such values are counted and treated as missing.
FLOAT32_MAX = float(np.finfo(np.float32).max)
WHOLE_LIMIT = 2.0**53  # beyond this every float is whole: such numbers are amounts, never class labels
TOO_LARGE = "too large for float32 (beyond ±3.4e38) or infinite"
SCALED_LIMIT = 1e12  # a scaled value beyond this many training standard deviations would overflow the losses
ID_NAME = re.compile(r"(^|[\s_.-])(id|uuid|guid|key|index|idx|rownum|row|no|nr)$|^(id|uuid|guid)([\s_.-]|$)|^#$", re.IGNORECASE)
CAMEL_ID = re.compile(r"[a-z](Id|ID)$")  # PassengerId, customerID; case matters ("paid" is not an ID)
UNNAMED = re.compile(r"^(column \d+|unnamed.*|index)$", re.IGNORECASE)
USABLE = ("number", "boolean", "category", "date")
DROP_REASONS = {  # why a kind of column is not a feature, for the notes
    "empty": "no values",
    "constant": "the same value in every row",
    "id": "ID-like, a different value in almost every row",
    "text": "free text, a different value in almost every row",
}

DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$|^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}( \d{1,2}:\d{2}(:\d{2})?)?$")
DATE_FORMATS = [
    (r"^\d{4}-", "ISO8601", "year-month-day"),
    (r"^\d{4}/", "%Y/%m/%d", "year/month/day"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y", "day.month.year"),
    (r"^\d{1,2}\.\d{1,2}\.\d{2}$", "%d.%m.%y", "day.month.year"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%m/%d/%Y", "month/day/year"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%d/%m/%Y", "day/month/year"),
    (r"^\d{1,2}-\d{1,2}-\d{4}$", "%d-%m-%Y", "day-month-year"),
    (r"^\d{1,2}/\d{1,2}/\d{4} ", "%m/%d/%Y %H:%M", "month/day/year"),
    (r"^\d{1,2}/\d{1,2}/\d{4} ", "%d/%m/%Y %H:%M", "day/month/year"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4} ", "%d.%m.%Y %H:%M", "day.month.year"),
]


@dataclass
class ColumnInfo:
    """What one column of a CSV is, for the profile and for choosing features."""

    name: str
    kind: str  # number, boolean, category, date, text, id, constant, empty
    missing: int
    distinct: int
    rows: int
    example: str
    reason: str = ""  # why it cannot be a feature; empty when it can
    too_large: int = 0  # numbers beyond float32's range or ±inf, counted in `missing`
    date_format: str | None = None
    date_order: str = ""  # e.g. "day/month/year", for the note

    @property
    def usable(self) -> bool:
        return self.kind in USABLE


def date_format(values: pd.Series) -> tuple[str, str] | None:
    """The date format that reads nearly all of these strings, or None when they are not dates."""
    sample = values.head(200).astype(str).str.strip()
    if sample.empty or sample.str.match(DATE_LIKE).mean() < DISTINCT_PER_ROW:
        return None
    best: tuple[float, str, str] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pattern, fmt, order in DATE_FORMATS:
            if not sample.str.match(pattern).mean() >= DISTINCT_PER_ROW:
                continue
            parsed = parse_dates(sample, fmt)
            share = float(parsed.notna().mean())
            if share >= DISTINCT_PER_ROW and (best is None or share > best[0]):
                best = (share, fmt, order)
    return None if best is None else (best[1], best[2])


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "ISO8601":
            parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
            return parsed.dt.tz_convert(None)
        return pd.to_datetime(values, format=fmt, errors="coerce")


def is_whole(values: pd.Series) -> bool:
    numbers = values.to_numpy(dtype=float)
    return bool(np.all(np.abs(numbers) < WHOLE_LIMIT) and np.all(numbers == np.round(numbers)))


def too_large(column: pd.Series) -> pd.Series:
    """True where a number is ±inf or beyond float32's range; False for text, booleans and gaps.

    Integer columns never are: int64 and uint64 end near 1.8e19, far inside float32's 3.4e38.
    """
    if not pd.api.types.is_float_dtype(column):
        return pd.Series(False, index=column.index)
    with np.errstate(invalid="ignore"):
        return pd.Series(np.abs(column.to_numpy(dtype=float, na_value=np.nan)) > FLOAT32_MAX, index=column.index)


def without_too_large(column: pd.Series) -> tuple[pd.Series, int]:
    """The column with its too-large and infinite numbers made missing, and how many there were."""
    mask = too_large(column)
    count = int(mask.sum())
    return (column.mask(mask) if count else column), count


def no_values(overflow: int, rows: int) -> str:
    if not overflow:
        return DROP_REASONS["empty"]
    if overflow == rows:
        return f"no usable values: all {overflow} are {TOO_LARGE}"
    return f"no usable values: {overflow} are {TOO_LARGE}, the other {rows - overflow} missing"


def column_info(name: str, column: pd.Series) -> ColumnInfo:
    column, overflow = without_too_large(column)
    present = column.dropna()
    rows, missing = len(column), len(column) - len(present)
    distinct = int(present.nunique())
    example = str(present.iloc[0])[:40] if len(present) else ""
    info = ColumnInfo(name, "number", missing, distinct, rows, example, too_large=overflow)
    if len(present) == 0:
        info.kind, info.reason = "empty", no_values(overflow, rows)
        return info
    if distinct == 1:
        info.kind, info.reason = "constant", f"the same value ({example!r}) in every row"
        return info
    many = len(present) >= 10 and distinct >= DISTINCT_PER_ROW * len(present)
    if pd.api.types.is_bool_dtype(column):
        info.kind = "boolean"
    elif pd.api.types.is_numeric_dtype(column):
        consecutive = bool(np.all(np.diff(present.to_numpy(dtype=float)) == 1))
        named = bool(ID_NAME.search(name) or CAMEL_ID.search(name))
        if many and is_whole(present) and (named or (UNNAMED.match(name) and consecutive)):
            info.kind, info.reason = "id", DROP_REASONS["id"]
    elif (found := date_format(present)) is not None:
        info.kind, info.date_format, info.date_order = "date", found[0], found[1]
    elif many:
        text = present.astype(str)
        sentences = text.str.contains(r"\s").mean() > 0.5 or text.str.len().mean() > 30
        if sentences:
            info.kind, info.reason = "text", DROP_REASONS["text"]
        else:
            info.kind, info.reason = "id", DROP_REASONS["id"]
    else:
        info.kind = "category"
    return info


def analyze_columns(frame: pd.DataFrame) -> list[ColumnInfo]:
    return [column_info(str(name), frame[name]) for name in frame.columns]


def reads_as_label(info: ColumnInfo) -> bool:
    return info.kind in ("category", "boolean") and LABEL_CLASSES[0] <= info.distinct <= LABEL_CLASSES[1]


def default_target(infos: list[ColumnInfo]) -> str:
    """The column a person most likely wants to predict.

    1. A column named like a target (`TARGET_NAMES`, in that order of preference).
    2. A label column (text or boolean, 2-20 distinct values) at an end of the table: the last column,
       else the first. Tables put the thing to predict at an end (scikit-learn/UCI exports last,
       penguins or mushrooms first); label columns in the middle (island, sex) describe the rows.
    3. The last label column anywhere, else the last usable column (a number: regression).
    """
    named = [i for i in infos if i.name.strip().lower() in TARGET_NAMES and i.kind not in ("empty", "constant")]
    if named:  # "target" before "label" ... before "species": the generic names say it outright
        return min(named, key=lambda i: TARGET_NAMES.index(i.name.strip().lower())).name
    labels = [i for i in infos if reads_as_label(i)]
    if labels:
        ends = [infos[-1], infos[0]]
        return next((i.name for i in ends if i in labels), labels[-1].name)
    candidates = [i for i in infos if i.kind in ("number", "boolean", "category")]
    return (candidates or infos)[-1].name


@dataclass
class TaskGuess:
    task: str  # classification or regression
    ambiguous: bool  # a person should say: few distinct whole numbers could be classes or amounts
    reason: str


def guess_task(target: pd.Series) -> TaskGuess:
    """Classification for labels and booleans, regression for fractions; few whole numbers are a question."""
    values = without_too_large(target)[0].dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return TaskGuess("classification", False, "it holds labels, not numbers")
    distinct = int(values.nunique())
    if not is_whole(values):
        if np.all(np.abs(values.to_numpy(dtype=float)) >= WHOLE_LIMIT):
            return TaskGuess("regression", False, "it holds numbers too large to be class labels")
        return TaskGuess("regression", False, "it holds numbers with fractions")
    if distinct <= 2:
        return TaskGuess("classification", False, f"it holds {distinct} distinct values")
    task = "classification" if distinct <= max(2, min(20, len(values) // 10)) else "regression"
    lo, hi = float(values.min()), float(values.max())
    reason = f"{distinct} distinct whole numbers ({lo:g} to {hi:g})"
    return TaskGuess(task, distinct <= 20, reason)


def detect_task(target: pd.Series) -> str:
    """Classification for text/boolean targets and whole numbers with few distinct values."""
    return guess_task(target).task


KIND_LABELS = {
    "number": "number",
    "boolean": "boolean",
    "category": "category",
    "date": "date",
    "text": "free text",
    "id": "ID-like",
    "constant": "constant",
    "empty": "empty",
}


PROFILE_COLUMNS = ["column", "use", "type", "missing", "distinct", "why", "example"]


def profile(infos: list[ColumnInfo], target: str | None = None, exclude: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """One row per column: what FitLab does with it (use, and why), its type, missing share, distinct values."""
    rows = []
    for info in infos:
        use, why = "feature", ""
        if info.name == target:
            use = "target"
        elif info.name in exclude:
            use, why = "left out", "left out by you"
        elif not info.usable:
            use, why = "dropped", info.reason
        elif info.kind == "category" and info.distinct > MAX_CATEGORIES:
            why = f"one-hot: the {MAX_CATEGORIES - 1} most frequent values, one input for the rest"
        elif info.kind == "category":
            why = "one-hot: one input per value"
        elif info.kind == "date":
            why = "year, month, day and weekday inputs"
        if info.too_large and info.kind != "empty" and use != "left out":
            why = "; ".join(filter(None, [why, f"{info.too_large} value(s) {TOO_LARGE}: treated as missing"]))
        rows.append(
            {
                "column": info.name,
                "use": use,
                "type": KIND_LABELS[info.kind],
                "missing": round(info.missing / info.rows, 3) if info.rows else 0.0,
                "distinct": info.distinct,
                "why": why,
                "example": info.example,
            }
        )
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def quoted_names(names: list[str], limit: int = 5) -> str:
    return first_and_more([repr(n) for n in names], limit)


def date_part_values(parsed: pd.Series) -> dict[str, pd.Series]:
    """A parsed date column's parts as numbers: year, month, day, weekday, and the hour with minutes as a fraction.

    Training (`features`) and the saved model's predictor (core.export.predictor) make inputs from these."""
    return {
        "year": parsed.dt.year,
        "month": parsed.dt.month,
        "day": parsed.dt.day,
        "weekday": parsed.dt.day_of_week,
        "hour": parsed.dt.hour + parsed.dt.minute / 60,
    }


