"""Words FitLab puts in front of people, where the same phrasing is needed in several places."""

from __future__ import annotations

from collections.abc import Sequence


def first_and_more(items: Sequence[str], limit: int, unit: str = "") -> str:
    """'a, b, c and 4 more' (`unit`: 'and 4 more column(s)'): a long list cut to its first `limit` items."""
    shown = ", ".join(items[:limit])
    if len(items) <= limit:
        return shown
    return shown + f" and {len(items) - limit} more" + (f" {unit}" if unit else "")
