"""Safe defaults (issue 20): what a careless host exposes without meaning to.

The dashboard listens on this machine only unless told otherwise; the run store's file is its owner's;
the live chart's script comes from a folder no one else can have made; workspace ids are not guessable.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tomllib
from pathlib import Path

import pytest

from core.store.runs import RunStore, generated_workspace_id, new_workspace_id

ROOT = Path(__file__).resolve().parents[1]


def test_the_server_listens_on_this_machine_only_by_default() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "FITLAB_HOST ?= 127.0.0.1" in makefile and "--server.address $(FITLAB_HOST)" in makefile


def test_caches_and_closed_sessions_are_bounded() -> None:
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]
    assert server["maxCacheDataSize"] == "512mb" and server["disconnectedSessionTTL"] <= 120


def test_the_sqlite_store_and_its_new_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "runs.sqlite"
    store = RunStore(f"sqlite:///{path}")
    assert store.list_runs(new_workspace_id()) == []  # opening it creates the file, its tables and WAL
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in ("runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"):
        if (path.parent / name).exists():
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    store.close()


def test_an_existing_world_readable_store_file_is_made_private(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "runs.sqlite"
    path.touch()
    os.chmod(path, 0o644)
    RunStore(f"sqlite:///{path}").list_runs(new_workspace_id())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # a folder the user named is theirs: left as it was


def test_the_live_chart_files_live_in_a_private_folder_of_this_process() -> None:
    from ui import live_chart

    first, second = live_chart._frontend(), live_chart._frontend()
    assert first != second, "a new folder each time: never one that already existed"
    for folder in (first, second):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
        script = (folder / "plotly.min.js").read_bytes()
        assert hashlib.sha256(script).digest() == hashlib.sha256(live_chart.PLOTLY_JS.read_bytes()).digest()


@pytest.mark.parametrize(
    ("candidate", "accepted"),
    [
        ("aaaaaaaa", False),
        ("aaaaaaaaaaaaaaaa", False),  # the right length, but one letter
        ("cli-runs", False),
        ("../../etc/passwd", False),
        ("Zq3-classroom_42", True),
        ("Zq3-classroom_42\n", False),
        ("Zq3-classroom_42x", False),
    ],
)
def test_only_ids_of_the_generated_form_open_a_workspace(candidate: str, accepted: bool) -> None:
    assert generated_workspace_id(candidate) is accepted


def test_new_workspace_ids_have_the_generated_form_and_differ() -> None:
    ids = {new_workspace_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(generated_workspace_id(i) for i in ids)
