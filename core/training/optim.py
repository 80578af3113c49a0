"""The training recipe's pieces other code reuses: threads, loss, optimizer, tensors, seeding, saved weights.

Public because the learning-rate finder, the learning curve and the benchmarks build the same
optimizer and tensors the Trainer does (one recipe, as nanoGPT's `configure_optimizers`).
"""

from __future__ import annotations

import io
import os
import threading

import numpy as np
import torch
from torch import nn

from core.hyperparameters import Hyperparameters

SGD_MOMENTUM = 0.9
SEED_LOCK = threading.Lock()  # torch's global RNG seeds weight init: one builder at a time


def configure_threads() -> int:
    """One intra-op thread unless FITLAB_TORCH_THREADS says otherwise.

    Small MLPs spend their time in per-op overhead; two threads on two shared cores ran many times
    slower than one (performance notes), and one leaves a core for the web server.
    """
    wanted = int(os.environ.get("FITLAB_TORCH_THREADS", "1"))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def loss_function(task: str) -> nn.Module:
    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def make_optimizer(model: nn.Module, hp: Hyperparameters) -> torch.optim.Optimizer:
    params = list(model.parameters())
    if hp.optimizer == "sgd":
        return torch.optim.SGD(params, lr=hp.learning_rate, momentum=SGD_MOMENTUM, weight_decay=hp.weight_decay, foreach=True)
    if hp.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=hp.learning_rate, weight_decay=hp.weight_decay, fused=True)
    return torch.optim.Adam(params, lr=hp.learning_rate, weight_decay=hp.weight_decay, fused=True)


def to_tensors(x: np.ndarray, y: np.ndarray, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    target = torch.from_numpy(np.array(y))  # a copy: inputs may be read-only views
    target = target.long() if task == "classification" else target.float().reshape(-1, 1)
    return torch.from_numpy(np.array(x, dtype=np.float32)), target


def state_bytes(model: nn.Module) -> bytes:
    """The model's parameters, a state_dict as `torch.save` writes it (what the run store keeps)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()
