"""A model file's parameters checked against its config: torch reads the state_dict, the config rebuilds the network."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from core.export.runs import ExportError
from core.hyperparameters import HyperparameterError, Hyperparameters
from core.training.model import build_model


def check_state(state: Any, config: Mapping[str, Any]) -> nn.Module:
    """The network the config describes, with `state` loaded into it; ExportError when they do not fit."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExportError("the model file does not hold a state_dict (a mapping of parameter names to tensors)")
    try:
        hp = Hyperparameters.from_dict(dict(config["hyperparameters"]))
        model = build_model(int(config["n_inputs"]), int(config["n_outputs"]), hp)
    except (HyperparameterError, KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"the model config is not usable: {exc}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else (first[0] if first else type(exc).__name__)
        raise ExportError(f"the model file does not fit its config: {detail}") from None
    model.eval()
    return model


def load_state(data: bytes) -> Any:
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # a truncated zip, a pickle of something else, a text file
        raise ExportError(f"not a PyTorch state_dict file ({type(exc).__name__})") from None
