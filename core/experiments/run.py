"""One training run from start to verdict, and its JSON form (the CLI contract)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from core.data.dataset import Dataset
from core.diagnosis import Diagnosis, diagnose
from core.dynamics import Dynamics
from core.experiments.baselines import Baselines, compute_baselines
from core.experiments.surface import SURFACE_RESOLUTION, boundary_surface
from core.hyperparameters import Hyperparameters
from core.jsonsafe import json_safe
from core.training.optim import state_bytes
from core.training.trainer import EpochRecord, History, Trainer

SMALL_MATRIX = 64  # a weight matrix of at most 64 x 64 is kept in the run for the Learn page's heatmap


@dataclass
class RunResult:
    hyperparameters: Hyperparameters
    dataset: dict[str, Any]  # Dataset.summary()
    history: History
    best_epoch: int  # lowest validation loss (the Trainer's record)
    status: str  # completed, early_stopped, diverged, stopped
    kept_epoch: int  # whose weights the run keeps (the Trainer's record; 0: none)
    test: dict[str, float | None]
    baselines: Baselines
    diagnosis: Diagnosis
    model: nn.Module | None = field(default=None, repr=False)
    dynamics: Dynamics | None = field(default=None, repr=False)  # inside the network, epoch by epoch (core.dynamics)

    @property
    def stopped_early(self) -> bool:
        return self.status == "early_stopped"

    @property
    def kept_val_loss(self) -> float:
        """Validation loss of the weights the run keeps (the Trainer's `kept_epoch`).

        Infinite when nothing usable was kept (no epoch, or a loss that was never finite).
        """
        if self.kept_epoch <= 0 or self.kept_epoch > len(self.history):
            return math.inf
        value = self.history[self.kept_epoch - 1].val_loss
        return value if math.isfinite(value) else math.inf

    def model_state(self) -> bytes | None:
        """The kept weights as the run store and the model download hold them (a torch.save'd state_dict)."""
        return state_bytes(self.model) if self.model is not None else None

    def parameters(self) -> dict[str, Any] | None:
        """What the model file holds, for the Learn page (which reads no torch): every state_dict tensor's name,
        shape and count, and the values of the small weight matrices (no side over SMALL_MATRIX) for a heatmap."""
        if self.model is None:
            return None
        state = self.model.state_dict()
        tensors = [{"key": key, "shape": list(t.shape), "count": int(t.numel())} for key, t in state.items()]
        matrices = {
            key: t.detach().cpu().tolist() for key, t in state.items() if t.dim() == 2 and max(t.shape) <= SMALL_MATRIX
        }
        return json_safe({"tensors": tensors, "matrices": matrices})

    def surface(self, dataset: Dataset, resolution: int | None = None) -> dict[str, Any] | None:
        """The decision boundary of a 2-feature run (None for other data, or when nothing was trained)."""
        if not dataset.is_2d or self.model is None or not self.history:
            return None
        return boundary_surface(dataset, self.model, resolution or SURFACE_RESOLUTION)

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "hyperparameters": self.hyperparameters.to_dict(),
                "dataset": self.dataset,
                "history": [r.to_dict() for r in self.history],
                "best_epoch": self.best_epoch,
                "kept_epoch": self.kept_epoch,
                "kept_val_loss": self.kept_val_loss,
                "stopped_early": self.stopped_early,
                "status": self.status,
                "test": self.test,
                "baselines": self.baselines,
                "diagnosis": self.diagnosis.to_dict(),
            }
        )


def run_experiment(
    dataset: Dataset,
    hp: Hyperparameters,
    *,
    stop_event: threading.Event | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_model: Callable[[EpochRecord, nn.Module], None] | None = None,
    baselines: Baselines | None = None,
    dynamics: bool = True,
    on_dynamics: Callable[[Dynamics], None] | None = None,
) -> RunResult:
    """Train to the end (or a stop request), evaluate on the test split, diagnose.

    `on_model`, if given, is called after each epoch with the network as it is at that epoch (to draw
    its decision boundary while it trains); it may predict with it, it must not change it. With
    `dynamics` the layers are measured as it trains (core.training.probe) and the diagnosis reads them;
    `on_dynamics`, if given, gets that record after each epoch (it grows in place)."""
    trainer = Trainer(dataset, hp, stop_event, record_dynamics=dynamics)
    for record in trainer:
        if on_epoch is not None:
            on_epoch(record)
        if on_model is not None and trainer.model is not None:
            on_model(record, trainer.model)
        if on_dynamics is not None and trainer.dynamics is not None:
            on_dynamics(trainer.dynamics)
    if baselines is None:
        baselines = compute_baselines(dataset)
    test_loss, test_metric = trainer.evaluate_test() if trainer.history else (math.nan, math.nan)
    return RunResult(
        hyperparameters=hp,
        dataset=dataset.summary(),
        history=trainer.history,
        best_epoch=trainer.best_epoch,
        status=trainer.status,
        kept_epoch=trainer.kept_epoch,
        test={"loss": test_loss, "metric": test_metric},
        baselines=baselines,
        diagnosis=diagnose(
            trainer.history, hp, baselines, kept_epoch=trainer.kept_epoch, status=trainer.status, dynamics=trainer.dynamics
        ),
        model=trainer.model,
        dynamics=trainer.dynamics,
    )
