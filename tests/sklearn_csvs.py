"""Real datasets that scikit-learn ships, written out as the CSV a student would have: real column names.

Generated at test time into a temporary folder (nothing big is committed).
"""

from __future__ import annotations

from pathlib import Path

from sklearn import datasets as skdatasets

# name: (target column, task FitLab should end up with, rows, feature columns)
REAL_CSVS = {
    "wine": ("target", "classification", 178, 13),  # classes 0, 1, 2: few whole numbers, so FitLab asks
    "breast_cancer": ("target", "classification", 569, 30),
    "diabetes": ("target", "regression", 442, 10),
}


def write_real_csv(name: str, folder: Path) -> Path:
    """`load_<name>(as_frame=True).frame` as CSV, exactly as pandas writes it."""
    frame = getattr(skdatasets, f"load_{name}")(as_frame=True).frame
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path
