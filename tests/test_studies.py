"""The dashboard's searches in Optuna storage: named by workspace, found again after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.store import studies


def test_storage_url_is_a_file_beside_the_run_store_unless_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FITLAB_TUNE_STORAGE", raising=False)
    assert studies.storage_url(f"sqlite:///{tmp_path / 'runs.sqlite'}") == f"sqlite:///{(tmp_path / 'tune.sqlite').resolve()}"
    server = "postgresql+psycopg://fitlab@db.example:5432/fitlab"
    assert studies.storage_url(server) == server  # several web servers reach the same searches
    monkeypatch.setenv("FITLAB_TUNE_STORAGE", str(tmp_path / "elsewhere.db"))
    assert studies.storage_url(server) == f"sqlite:///{(tmp_path / 'elsewhere.db').resolve()}"


def test_a_workspace_finds_only_its_own_studies_newest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tune.sqlite'}"
    older = studies.new_study_name("alpha-workspace", now=1_000.0)
    newer = studies.new_study_name("alpha-workspace", now=2_000.5)
    other = studies.new_study_name("beta-workspace", now=3_000.0)
    for name, kind in ((older, "search"), (newer, "validation_curve"), (other, "search")):
        studies.create(url, name, {"kind": kind, "settings": {"n_trials": 4}})
    studies.set_attr(url, newer, "runs", ["r1", "r2"])
    found = studies.workspace_studies(url, "alpha-workspace")
    assert [s.name for s in found] == [newer, older]
    assert found[0].created == pytest.approx(2_000.5)
    assert found[0].attrs == {"kind": "validation_curve", "settings": {"n_trials": 4}, "runs": ["r1", "r2"]}
    assert [s.name for s in studies.workspace_studies(url, "beta-workspace")] == [other]
    assert studies.workspace_studies(url, "gamma-workspace") == []
    # a workspace whose id starts like another's does not see the other's studies
    studies.create(url, studies.new_study_name("alpha", now=5.0), {"kind": "search"})
    assert len(studies.workspace_studies(url, "alpha-workspace")) == 2
