"""One JSON cleaner for everything FitLab writes: the CLI's JSON, the run store, downloads, job payloads."""

from __future__ import annotations

import math
import numbers
from typing import Any


def json_safe(value: Any) -> Any:
    """JSON-safe: non-finite floats become null (valid JSON has no NaN; PostgreSQL's JSON rejects it),
    tuples become lists, dictionary keys strings, NumPy scalars Python numbers (the encoder knows only those).
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
