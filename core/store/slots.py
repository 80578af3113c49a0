"""Trial slots: exactly N trials of one search across every process that joins it.

Each process takes a slot before a trial (an atomic UPDATE ... WHERE taken < total in the study's own
database), so a search of N trials runs N trials however many workers join it. A study without a
database (the CLI without --storage) counts in memory.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from core.store.retry import retry_race

SLOTS = sa.Table(
    "fitlab_tune_slots",
    sa.MetaData(),
    sa.Column("study", sa.String(200), primary_key=True),
    sa.Column("taken", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
)


class TrialSlots:
    """Trial slots of one study: in the study's own database, or in memory for a study without storage."""

    def __init__(self, storage: str | None, study: str, total: int) -> None:
        self.study, self.total, self.taken = study, total, 0
        self.engine = sa.create_engine(storage, pool_pre_ping=True) if storage else None
        if self.engine is None:
            return
        engine = self.engine
        retry_race(lambda: SLOTS.metadata.create_all(engine, checkfirst=True))  # processes race to create it
        # Its own transaction: on PostgreSQL a failed INSERT spoils the transaction it is in.
        with contextlib.suppress(sa.exc.IntegrityError), self.engine.begin() as conn:  # a process made it first: its total stands
            if conn.execute(sa.select(SLOTS.c.study).where(SLOTS.c.study == study)).first() is None:
                conn.execute(SLOTS.insert().values(study=study, taken=0, total=total))

    def take(self) -> bool:
        if self.engine is None:
            if self.taken >= self.total:
                return False
            self.taken += 1
            return True
        with self.engine.begin() as conn:
            done = conn.execute(
                SLOTS.update().where(SLOTS.c.study == self.study, SLOTS.c.taken < SLOTS.c.total).values(taken=SLOTS.c.taken + 1)
            )
            return bool(done.rowcount)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
