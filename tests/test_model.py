"""core.training.model: the MLP's layer structure and its learned-parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.hyperparameters import ACTIVATIONS, Hyperparameters
from core.training.model import build_model, functional_forward
from core.training.shapes import parameter_counts

ACTIVATION_TYPES = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


def _count(model: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(m, kind) for m in model)


def _numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("hidden_layers", [0, 1, 2, 5])
def test_layer_counts_follow_depth(hidden_layers):
    model = build_model(3, 2, Hyperparameters(hidden_layers=hidden_layers, width=8))
    assert _count(model, nn.Linear) == hidden_layers + 1
    assert _count(model, nn.ReLU) == hidden_layers
    assert len(model) == 2 * hidden_layers + 1
    assert isinstance(model[-1], nn.Linear)  # the output layer has no activation after it


def test_layer_sizes():
    model = build_model(2, 3, Hyperparameters(hidden_layers=2, width=4))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 4), (4, 4), (4, 3)]


def test_no_hidden_layer_is_a_single_linear_map():
    model = build_model(5, 1, Hyperparameters(hidden_layers=0))
    assert len(model) == 1
    assert (model[0].in_features, model[0].out_features) == (5, 1)


def test_dropout_module_absent_at_rate_zero():
    model = build_model(2, 2, Hyperparameters(hidden_layers=3, width=8, dropout=0.0))
    assert _count(model, nn.Dropout) == 0


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_module_after_each_hidden_layer(rate):
    model = build_model(2, 2, Hyperparameters(hidden_layers=3, width=8, dropout=rate))
    dropouts = [m for m in model if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 3
    assert all(d.p == rate for d in dropouts)
    assert len(model) == 3 * 3 + 1
    assert not isinstance(model[-1], nn.Dropout)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_choice(activation):
    model = build_model(2, 2, Hyperparameters(hidden_layers=2, width=4, activation=activation))
    assert _count(model, ACTIVATION_TYPES[activation]) == 2


def test_parameter_count_of_the_example_network():
    # width 4, 2 inputs, 2 hidden layers, 2 outputs: (2*4+4) + (4*4+4) + (4*2+2)
    hp = Hyperparameters(hidden_layers=2, width=4)
    expected = (2 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2)
    assert expected == 42
    assert _numel(build_model(2, 2, hp)) == expected
    rows = parameter_counts(2, 2, hp)
    assert sum(r.total for r in rows) == expected
    assert [r.layer for r in rows] == ["hidden 1", "hidden 2", "output"]
    assert [r.shape for r in rows] == ["2 -> 4", "4 -> 4", "4 -> 2"]
    assert [(r.weights, r.biases) for r in rows] == [(8, 4), (16, 4), (8, 2)]


@pytest.mark.parametrize(
    ("n_in", "n_out", "layers", "width", "dropout"),
    [(2, 2, 0, 128, 0.0), (2, 1, 1, 16, 0.0), (13, 3, 3, 32, 0.3), (64, 10, 2, 7, 0.5), (4, 3, 8, 1, 0.0)],
)
def test_parameter_counts_match_the_built_model(n_in, n_out, layers, width, dropout):
    hp = Hyperparameters(hidden_layers=layers, width=width, dropout=dropout)
    rows = parameter_counts(n_in, n_out, hp)
    model = build_model(n_in, n_out, hp)
    assert sum(r.total for r in rows) == _numel(model)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert len(rows) == len(linears)
    for row, linear in zip(rows, linears, strict=True):
        assert row.weights == linear.weight.numel()
        assert row.biases == linear.bias.numel()
    # from first principles: in*out + out per layer
    sizes = [n_in] + [width] * layers + [n_out]
    assert _numel(model) == sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))


def test_dropout_does_not_change_the_parameter_count():
    a = build_model(2, 2, Hyperparameters(hidden_layers=2, width=16, dropout=0.0))
    b = build_model(2, 2, Hyperparameters(hidden_layers=2, width=16, dropout=0.5))
    assert _numel(a) == _numel(b)


def test_forward_pass_shape():
    model = build_model(3, 4, Hyperparameters(hidden_layers=2, width=8))
    assert model(torch.zeros(5, 3)).shape == (5, 4)


# ---------------------------------------------------------------- functional_forward: model(x) without Module.__call__


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_functional_forward_computes_what_the_model_computes(activation, dropout):
    torch.manual_seed(0)
    model = build_model(3, 2, Hyperparameters(hidden_layers=2, width=8, activation=activation, dropout=dropout))
    forward = functional_forward(model)
    assert forward is not model
    x = torch.randn(16, 3)
    for training in (True, False):  # dropout on, then off
        model.train(training)
        torch.manual_seed(1)
        expected = model(x)
        expected.sum().backward()
        expected_grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # the same dropout masks
        got = forward(x)
        got.sum().backward()
        assert torch.equal(got, expected)
        assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), expected_grads, strict=True))
        model.zero_grad(set_to_none=True)


def test_functional_forward_reads_the_parameters_at_call_time():
    model = build_model(2, 2, Hyperparameters(hidden_layers=1, width=4))
    forward = functional_forward(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    x = torch.randn(5, 2)
    assert torch.equal(forward(x), model(x))


def test_functional_forward_falls_back_to_the_model():
    unknown = nn.Sequential(nn.Linear(2, 4), nn.Softplus(), nn.Linear(4, 1))
    assert functional_forward(unknown) is unknown
    hooked = build_model(2, 2, Hyperparameters(hidden_layers=1, width=4))
    hooked[0].register_forward_hook(lambda module, inputs, output: output * 2)
    assert functional_forward(hooked) is hooked
    in_place = nn.Sequential(nn.Linear(2, 4), nn.ReLU(inplace=True), nn.Linear(4, 1))
    assert functional_forward(in_place) is in_place
