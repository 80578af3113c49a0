"""Shared fixtures: small, seeded datasets and hand-made training curves.

Everything here is tiny (at most 200 rows) so that the whole unit suite stays well under a minute on
two CPU cores.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The AppTests' run store (and anything else that opens the default store) lives in a fresh temporary
# directory, never in the checkout's data/.
os.environ["FITLAB_DATA_DIR"] = tempfile.mkdtemp(prefix="fitlab-test-data-")
os.environ.pop("FITLAB_DB", None)
if str(REPO_ROOT) not in sys.path:  # `pytest` as well as `python -m pytest` must find `core`
    sys.path.insert(0, str(REPO_ROOT))

from core.data.builtin import load_builtin  # noqa: E402
from core.data.dataset import Dataset  # noqa: E402
from core.history import EpochRecord  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def tiny_moons() -> Dataset:
    """200 rows of two interleaved half-moons: 120 train, 40 validation, 40 test."""
    return load_builtin("moons", samples=200, noise=0.2, seed=0)


@pytest.fixture(scope="session")
def tiny_sine() -> Dataset:
    """200 rows of a smooth 2-D regression target."""
    return load_builtin("sine", samples=200, noise=0.1, seed=0)


@pytest.fixture(scope="session")
def tiny_gaussians() -> Dataset:
    """200 rows, three classes."""
    return load_builtin("gaussians", samples=200, noise=0.2, seed=0)


@pytest.fixture
def small_hp() -> Hyperparameters:
    """A network small and short enough to train in a fraction of a second."""
    return Hyperparameters(hidden_layers=1, width=8, epochs=5, batch_size=32, seed=0)


def make_history(
    train: Sequence[float],
    val: Sequence[float] | None = None,
    train_metric: Sequence[float] | float = math.nan,
    val_metric: Sequence[float] | float = math.nan,
) -> list[EpochRecord]:
    """EpochRecords (1-based epochs) from hand-written loss curves; metrics may be one value for all epochs."""
    val = list(train) if val is None else list(val)
    assert len(val) == len(train)
    n = len(train)
    tm = [train_metric] * n if isinstance(train_metric, (int, float)) else list(train_metric)
    vm = [val_metric] * n if isinstance(val_metric, (int, float)) else list(val_metric)
    return [EpochRecord(i + 1, float(train[i]), float(val[i]), float(tm[i]), float(vm[i]), 0.01) for i in range(n)]


@pytest.fixture
def history_factory():
    return make_history


@pytest.fixture(scope="session")
def postgres_url():
    """A real, throw-away PostgreSQL server for the session (tests/postgres.py): its database's URL.

    Skipped when the server binaries are missing, with the apt-get line; under CI that is a failure.
    """
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A run store's URL, once on a fresh SQLite file and once on the session's PostgreSQL (emptied first)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    from core.store import runs as store_module
    from core.store.runs import RunStore

    url = request.getfixturevalue("postgres_url")
    emptied = RunStore(url)  # one database for the session: every test starts from empty tables
    with emptied.engine.begin() as conn:
        for table in reversed(store_module.metadata.sorted_tables):
            conn.execute(table.delete())
    emptied.close()
    return url
