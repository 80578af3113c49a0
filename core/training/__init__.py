"""Training: the network (`model`), the optimizer recipe and tensors (`optim`), the epoch loop (`trainer`).

Nothing is imported here: `core.training.shapes` (parameter counts, arithmetic) must not pull in torch."""
