"""Session state has one door (ui/state.py): no page or ui module spells a session-state key itself."""

from __future__ import annotations

import re
from pathlib import Path

from ui import state

ROOT = Path(__file__).resolve().parents[1]
BARE = re.compile(r"\bsession_state\b")


def test_only_ui_state_touches_session_state() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        if path.name != "state.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BARE.search(line.split("#", 1)[0]) and not line.lstrip().startswith(('"', "'"))
    ]
    assert offenders == [], f"use a ui.state slot instead of st.session_state: {offenders}"


def test_every_slot_has_its_own_key_and_a_description() -> None:
    slots = [value for value in vars(state).values() if isinstance(value, state.Slot)]
    assert len(slots) >= 14
    keys = [slot.key for slot in slots]
    assert len(keys) == len(set(keys)), keys
    assert all(slot.__doc__ and len(slot.__doc__) > 10 for slot in slots)
