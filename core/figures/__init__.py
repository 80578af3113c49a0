"""Plotly figures only: they draw data computed elsewhere and never import torch, the store or the workers."""
