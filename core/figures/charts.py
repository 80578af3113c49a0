"""Plotly figures built from a run's history: loss, metric, decision boundary, parameter counts.

The figures live in modules by topic (style, curves, surface, experiments, fix, tuning); this module
gathers their public names, so that `from core.figures.charts import loss_figure` keeps working.
"""

from __future__ import annotations

from core.figures.curves import (
    BASELINE_COLORS,
    BASELINE_STRETCH,
    LABEL_FONT_PX,
    LABEL_GAP_PX,
    LABEL_LINE_PX,
    LABEL_MARGIN_PX,
    PLOT_HEIGHT_PX,
    RANGE_PAD,
    best_index,
    loss_figure,
    loss_range,
    metric_figure,
)
from core.figures.experiments import learning_curve_figure, lr_finder_figure
from core.figures.fix import FIX_PANEL_PX, FIX_ROW_GAP_PX, FIX_TITLE_CHARS, ROUND_COLORS, fix_path_figure
from core.figures.style import (
    BEST_COLOR,
    CLASS_COLORS,
    GAP_FILL,
    RISE_COLOR,
    SPLIT_COLORS,
    TRAIN_COLOR,
    VAL_COLOR,
    layout,
)
from core.figures.surface import DATA_POINTS, SPLIT_STYLE, data_figure, surface_figure
from core.figures.tuning import (
    LOG_KNOBS,
    TRIAL_COLORS,
    importance_figure,
    tune_history_figure,
    tune_parallel_figure,
    validation_curve_figure,
)

__all__ = [
    "BASELINE_COLORS",
    "BASELINE_STRETCH",
    "BEST_COLOR",
    "CLASS_COLORS",
    "DATA_POINTS",
    "FIX_PANEL_PX",
    "FIX_ROW_GAP_PX",
    "FIX_TITLE_CHARS",
    "GAP_FILL",
    "LABEL_FONT_PX",
    "LABEL_GAP_PX",
    "LABEL_LINE_PX",
    "LABEL_MARGIN_PX",
    "LOG_KNOBS",
    "PLOT_HEIGHT_PX",
    "RANGE_PAD",
    "RISE_COLOR",
    "ROUND_COLORS",
    "SPLIT_COLORS",
    "SPLIT_STYLE",
    "TRAIN_COLOR",
    "TRIAL_COLORS",
    "VAL_COLOR",
    "best_index",
    "data_figure",
    "fix_path_figure",
    "importance_figure",
    "layout",
    "learning_curve_figure",
    "loss_figure",
    "loss_range",
    "lr_finder_figure",
    "metric_figure",
    "surface_figure",
    "tune_history_figure",
    "tune_parallel_figure",
    "validation_curve_figure",
]
