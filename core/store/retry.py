"""One answer to processes racing to create the same tables or study: try again after a short, random pause.

Several worker processes (and servers) open a fresh database at once. Each sees a table missing and
creates it; the losers' CREATE fails ("already exists", an IntegrityError, or SQLite's "database is
locked"), and looking again then finds everything there.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
RACE_ERRORS: tuple[type[BaseException], ...] = (sa.exc.IntegrityError, sa.exc.OperationalError, sa.exc.ProgrammingError)


def jittered(attempt: int) -> float:
    """The default pause before try `attempt + 2`: 0.2 s plus up to 0.5 s at random (the racers spread out)."""
    return 0.2 + random.random() * 0.5


def retry_race(
    action: Callable[[], T],
    *,
    tries: int = 6,
    errors: tuple[type[BaseException], ...] = RACE_ERRORS,
    pause: Callable[[int], float] = jittered,
    raced: Callable[[BaseException], bool] | None = None,
) -> T:
    """`action()`, tried again on `errors` up to `tries` times in all; the last error is raised.

    `raced(exc)`, if given, tells a lost race from a real failure (an unreachable server): only the
    former is tried again."""
    for attempt in range(tries):
        try:
            return action()
        except errors as exc:
            if attempt == tries - 1 or (raced is not None and not raced(exc)):
                raise
            time.sleep(pause(attempt))
    raise AssertionError("unreachable")
