"""Before Train: how long the run will take here, and a warning when it would take minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlit.delta_generator import DeltaGenerator

from core.experiments.estimate import Estimate, estimate_seconds
from core.hyperparameters import Hyperparameters

if TYPE_CHECKING:  # the picker is edited often; this module needs only its type
    from ui.choice import DataChoice


def show(slot: DeltaGenerator, choice: DataChoice | None, hp: Hyperparameters | None) -> Estimate | None:
    """A caption with the estimate, or a warning for a run of a minute or more. Nothing without data or knobs.

    The first call in a server process measures this machine (about 0.3-0.7 s, core.experiments.estimate.calibration)."""
    if choice is None or hp is None:
        return None
    estimate = estimate_seconds(choice.dataset, hp)
    if estimate.warning:
        slot.warning(f"{estimate.warning} ({estimate.text})", icon=":material/schedule:")
    else:
        slot.caption(estimate.text)
    return estimate
