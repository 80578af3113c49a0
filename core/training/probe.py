"""Measuring the network's parameters while it trains: one cheap probe per epoch (see core.dynamics).

Cost, by design: once per epoch, not per step, and no extra backward pass. The gradient is the one
training just computed: the epoch's last mini-batch's, still in the weights' `.grad` (so `grad_norm`
is a one-batch reading, noisy but taken on the same batch for every layer, which is what comparing
layers needs). One forward pass without autograd over PROBE_VAL_ROWS fixed validation rows for dead
and saturated units; every norm in a few batched ops read back at once; a copy of the weights to
measure the next epoch's update. Histograms only at snapshot epochs. The probe runs the layers itself
with dropout off, so it draws nothing from the random generator the training uses: a run with the
probe gives the same losses as one without (tests/test_probe.py). bench/bench_dynamics.py measures what it costs per epoch.

Thresholds, and where they come from:
- dead: a ReLU or leaky-ReLU unit whose input is <= 0 for every validation probe row (its output, and
  for ReLU its gradient, is zero for all of them: DeepDiagnosis's dead node); GELU: input below -3,
  where GELU's output and slope are within 1 % of zero.
- saturated: a sigmoid input beyond +-5 (DeepDiagnosis's threshold; the slope is 2.7 % of its peak), a
  tanh input beyond +-2.5 (where tanh's slope is likewise 2.7 % of its peak).
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from core.dynamics import HISTOGRAM_BINS, Dynamics, Histogram, LayerInfo, Snapshot, snapshot_epochs

PROBE_VAL_ROWS = 128
SHARE = 0.04  # the probe may take this share of a run's time (bench/REPORT-dynamics.md: the cost it then adds)
_EMPTY = torch.zeros(0)
_NOT_APPLICABLE = torch.tensor(-1.0)
DEAD_BELOW = {"relu": 0.0, "leaky_relu": 0.0, "gelu": -3.0}
SATURATED_BEYOND = {"sigmoid": 5.0, "tanh": 2.5}
_APPLY = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": F.gelu,
}


def _activation_name(module: nn.Module) -> str | None:
    for name, kind in (
        ("relu", nn.ReLU),
        ("tanh", nn.Tanh),
        ("sigmoid", nn.Sigmoid),
        ("gelu", nn.GELU),
        ("leaky_relu", nn.LeakyReLU),
    ):
        if isinstance(module, kind):
            return name
    return None


def describe_layers(model: nn.Module) -> list[LayerInfo]:
    """The Linear layers of a build_model network, named as a student reads them and as the state_dict keys them."""
    modules = list(model.named_children())
    linears = [(i, name, m) for i, (name, m) in enumerate(modules) if isinstance(m, nn.Linear)]
    layers = []
    for position, (index, name, linear) in enumerate(linears):
        following = [_activation_name(m) for _, m in modules[index + 1 :]]
        activation = next((a for a in following if a is not None), None) if position < len(linears) - 1 else None
        label = "output layer" if position == len(linears) - 1 else f"hidden layer {position + 1}"
        layers.append(LayerInfo(label, f"{name}.weight", f"{name}.bias", linear.in_features, linear.out_features, activation))
    return layers


class Probe:
    """Measures a network after each epoch into a Dynamics record (`seconds`: the time it took in all)."""

    def __init__(self, model: nn.Module, x_val: torch.Tensor, activation: str, budget: int) -> None:
        self.linears = [m for m in model.children() if isinstance(m, nn.Linear)]
        self.x_val = x_val[:PROBE_VAL_ROWS] if len(x_val) else None
        self.record = Dynamics(describe_layers(model), activation, probe_val_rows=min(PROBE_VAL_ROWS, len(x_val)))
        self._activations = [layer.activation or "" for layer in self.record.layers if layer.activation is not None]
        self._snapshots = sorted(snapshot_epochs(budget))
        self._started = time.perf_counter()
        self._steps = [self._step(m) for m in model.children()]
        with torch.no_grad():
            self._initial = [m.weight.detach().clone() for m in self.linears]
            self._previous = [w.clone() for w in self._initial]
        self._last_snapshot = -1
        self.seconds = 0.0

    def _step(self, module: nn.Module) -> tuple[str, nn.Module | None]:
        if isinstance(module, nn.Linear):
            return "linear", module
        name = _activation_name(module)
        if name is not None:
            return name, module
        return "skip", None  # dropout (off in the probe), or anything else that does not change the values

    def after_epoch(self, epoch: int) -> None:
        """Measure `epoch` if the budget allows: the first epoch always, later ones while the probe has taken
        at most SHARE of the run's time (a fast epoch is then measured every few epochs, a slow one each time)."""
        training = time.perf_counter() - self._started - self.seconds
        if epoch <= 1 or self.seconds <= SHARE * training:
            self.measure(epoch)

    def finish(self, last_epoch: int) -> None:
        """The run ended after `last_epoch` (its weights still in the model): measured, with its histograms."""
        if last_epoch > 0 and (not self.record.epochs or self.record.epochs[-1] != last_epoch):
            self.measure(last_epoch)
        self.snapshot(last_epoch)

    def measure(self, epoch: int) -> None:
        """Record the network as it is at the end of `epoch` (0: as initialised)."""
        started = time.perf_counter()
        with torch.inference_mode():
            inputs = self._activation_inputs() if self.x_val is not None else []
        with torch.no_grad():
            self._record(epoch, inputs)
        self.seconds += time.perf_counter() - started

    def _activation_inputs(self) -> list[torch.Tensor]:
        """Each activation's input on the validation probe rows, dropout off."""
        assert self.x_val is not None
        h, inputs = self.x_val, []
        for kind, module in self._steps:
            if kind == "linear":
                assert isinstance(module, nn.Linear)
                h = F.linear(h, module.weight, module.bias)
            elif kind == "leaky_relu":
                assert isinstance(module, nn.LeakyReLU)
                inputs.append(h)
                h = F.leaky_relu(h, module.negative_slope)
            elif kind in _APPLY:
                inputs.append(h)
                h = _APPLY[kind](h)
        return inputs

    def _record(self, epoch: int, inputs: list[torch.Tensor]) -> None:
        """All norms in a few batched ops and one read-back (each separate op and float() costs microseconds)."""
        weights = [m.weight for m in self.linears]
        biases = [m.bias if m.bias is not None else _EMPTY for m in self.linears]
        grads = [m.weight.grad if m.weight.grad is not None and epoch > 0 else _EMPTY for m in self.linears]
        moved = torch._foreach_sub(weights, self._previous)
        drifted = torch._foreach_sub(weights, self._initial)
        norms = torch.stack(torch._foreach_norm([*weights, *biases, *grads, *self._previous, *moved, *self._initial, *drifted]))
        shares = [_dead_and_saturated(pre, self._activations[i]) for i, pre in enumerate(inputs)]
        table = norms.view(7, len(weights)).tolist()
        share_rows = torch.stack(shares).tolist() if shares else []
        torch._foreach_copy_(self._previous, weights)
        w, b, g, previous, move, initial, drift = table
        hidden = iter(share_rows)
        values: dict[str, list[float | None]] = {name: [] for name in self.record.stats}
        for i, layer in enumerate(self.record.layers):
            values["weight_norm"].append(w[i])
            values["bias_norm"].append(b[i] if self.linears[i].bias is not None else None)
            values["grad_norm"].append(g[i] if grads[i] is not _EMPTY else None)
            values["update_ratio"].append(move[i] / previous[i] if epoch > 0 and previous[i] > 0 else None)
            values["drift"].append(drift[i] / initial[i] if initial[i] > 0 else None)
            dead, saturated = next(hidden) if layer.activation is not None and share_rows else (-1.0, -1.0)
            values["dead"].append(dead if dead >= 0 else None)
            values["saturated"].append(saturated if saturated >= 0 else None)
        self.record.add(epoch, values)
        if self._snapshots and self._snapshots[0] <= epoch:  # a planned snapshot is due (or was skipped for the budget)
            while self._snapshots and self._snapshots[0] <= epoch:
                self._snapshots.pop(0)
            self.snapshot(epoch)

    def snapshot(self, epoch: int) -> None:
        """Histograms of every layer's weights and biases at `epoch` (once per epoch), in batched ops."""
        if epoch == self._last_snapshot:
            return
        started = time.perf_counter()
        self._last_snapshot = epoch
        with torch.no_grad():
            tensors = [m.weight.reshape(-1) for m in self.linears] + [
                m.bias if m.bias is not None else _EMPTY for m in self.linears
            ]
            histograms = _histograms(tensors)
        n = len(self.linears)
        self.record.snapshots.append(Snapshot(epoch, histograms[:n], histograms[n:]))
        self.seconds += time.perf_counter() - started


def _dead_and_saturated(pre: torch.Tensor, activation: str) -> torch.Tensor:
    """(dead share, saturated share) of one hidden layer as a 2-vector; -1 where the measure does not apply."""
    dead = (pre <= DEAD_BELOW[activation]).all(dim=0).float().mean() if activation in DEAD_BELOW else _NOT_APPLICABLE
    saturated = (pre.abs() > SATURATED_BEYOND[activation]).float().mean() if activation in SATURATED_BEYOND else _NOT_APPLICABLE
    return torch.stack([dead, saturated])


def _histograms(tensors: list[torch.Tensor]) -> list[Histogram]:
    """HISTOGRAM_BINS bars from each tensor's minimum to its maximum; a tensor with a NaN or infinity (a
    diverged run) gets an empty one, a constant tensor (zero biases) one bar."""
    present = [t for t in tensors if t.numel()]
    if not present:
        return [Histogram(0.0, 0.0, []) for _ in tensors]
    lows = torch.stack(torch._foreach_neg(torch._foreach_max(torch._foreach_neg(present)))).tolist()
    highs = torch.stack(torch._foreach_max(present)).tolist()
    counts = [
        torch.histc(t, bins=HISTOGRAM_BINS, min=low, max=high)
        for t, low, high in zip(present, lows, highs, strict=True)
        if math.isfinite(low) and math.isfinite(high) and high > low
    ]
    rows = iter(torch.stack(counts).to(torch.int64).tolist() if counts else [])
    ranges = iter(zip(present, lows, highs, strict=True))
    out = []
    for t in tensors:
        if not t.numel():
            out.append(Histogram(0.0, 0.0, []))
            continue
        _, low, high = next(ranges)
        if not (math.isfinite(low) and math.isfinite(high)):
            out.append(Histogram(0.0, 0.0, []))
        elif high > low:
            out.append(Histogram(low, high, next(rows)))
        else:
            out.append(Histogram(low, high, [t.numel()]))
    return out
