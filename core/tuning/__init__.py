"""Hyperparameter search with Optuna: search space, samplers and pruners, the study a job works in."""
