"""Column names of a log: which split and quantity each names (`val_loss`, `train/box_loss`, `Val Acc`), the
log's format, and which columns give the training and validation loss and the metric."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from core.data.csvfile import DataError

# A column name is split into [qualifier_] [split_] base [_suffix]: `val_acc`, `train_loss_epoch`,
# Keras' bare `loss`, `real_val_loss` (a second validation set), `train/box_loss` (YOLO).
SPLITS = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "metrics": "val",  # Ultralytics: metrics/mAP50(B) is measured on the validation set
}
SUFFIXES = ("epoch", "step")  # Lightning's on_epoch / on_step copies of one logged value
STEP_NAMES = {"step", "batch", "iteration", "iter", "global_step", "batch_idx"}  # several rows per epoch
LEARNING_RATE_NAMES = {"lr", "learning_rate"}  # also lr/pg0 (Ultralytics), lr-Adam (Lightning)
TOTAL_WORDS = {"total", "mean", "avg", "overall"}  # `mean_loss` is the loss when there is no plain `loss`
# Metric names by direction, matched on the words of the base name (`sparse_categorical_accuracy`, `auc_1`).
HIGHER_IS_BETTER = {"acc", "accuracy", "auc", "auroc", "f1", "fbeta", "precision", "recall", "r2", "iou", "dice", "ap", "map"}
LOWER_IS_BETTER = {"mae", "mse", "rmse", "msle", "mape", "error", "crossentropy", "hinge", "logcosh", "perplexity", "ppl"}
LOWER_IS_BETTER |= {"kld", "nll"}


@dataclass(frozen=True)
class Column:
    index: int
    name: str  # as the header spells it
    split: str  # train, val, test
    base: str  # loss, accuracy, mae, ...
    suffix: str  # epoch, step, or "" (Lightning's copies of one value)
    prefixed: bool  # `train_loss` rather than Keras' bare `loss`
    qualifier: str = ""  # `real` in `real_val_loss`: one of several validation sets


@functools.lru_cache(maxsize=4096)  # a text log names the same few labels on every line
def norm(name: str) -> str:
    """`Val/Loss`, `val-loss`, `val_loss` and `ValLoss` are one name."""
    name = name.strip()
    if re.fullmatch(r"[A-Za-z0-9]+", name):
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)  # camelCase: TrainLoss, ValAcc
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def is_learning_rate(name: str) -> bool:
    key = norm(name)
    return key in LEARNING_RATE_NAMES or key.split("_")[0] == "lr"


def value_columns(header: list[str], labels: set[int]) -> tuple[list[Column], int | None, int | None]:
    """The value columns, the epoch column (the unnamed pandas index if none) and a step/batch column."""
    normalized = [norm(h) for h in header]
    epoch_index = normalized.index("epoch") if "epoch" in normalized else (0 if header[0] == "" else None)
    step_index = next((i for i, key in enumerate(normalized) if key in STEP_NAMES), None)
    columns = []
    for index, key in enumerate(normalized):
        if index in (epoch_index, step_index) or index in labels or key in ("epoch", "step", ""):
            continue
        if is_learning_rate(header[index]):
            continue
        words = key.split("_")
        suffix = words.pop() if len(words) > 1 and words[-1] in SUFFIXES else ""
        at = next((i for i, w in enumerate(words[:-1]) if w in SPLITS), None)
        prefixed = at is not None
        split = SPLITS[words[at]] if at is not None else "train"  # Keras names training values bare: `loss`
        qualifier = "_".join(words[:at]) if at is not None else ""
        base = "_".join(words[at + 1 :] if at is not None else words)
        columns.append(Column(index, header[index], split, base, suffix, prefixed, qualifier))
    return columns, epoch_index, step_index


def detect_format(columns: list[Column], epoch_index: int | None, header: list[str]) -> str:
    if "step" in (norm(h) for h in header) or any(c.suffix for c in columns):
        if epoch_index is None:
            raise DataError(
                "this looks like Lightning's metrics.csv (a step column or *_epoch / *_step names) but it has no "
                f"epoch column to group its rows by; found columns: {', '.join(header)}"
            )
        return "lightning"
    if any(h.strip().lower().startswith("metrics/") for h in header):
        return "yolo"
    losses = [c for c in columns if c.split == "train" and c.base == "loss"]
    batched = any(norm(h) in STEP_NAMES for h in header)  # Keras' CSVLogger writes no batch rows
    return "keras" if losses and not batched and not any(c.prefixed for c in losses) else "plain"


def test_as_validation(columns: list[Column], notes: list[str]) -> list[Column]:
    """A log measured on a test split every epoch and on no validation split: the test split stands in."""
    if any(c.split == "val" for c in columns) or not any(c.split == "test" for c in columns):
        return columns
    tests = [c for c in columns if c.split == "test"]
    notes.append(
        f"The log has no validation columns: {', '.join(f'`{c.name}`' for c in tests)}, measured every epoch, "
        "stand(s) in for validation."
    )
    return [replace(c, split="val") if c.split == "test" else c for c in columns]


def order(column: Column) -> tuple[int, int]:
    # Lightning: the epoch mean first, then a value logged once per epoch, then the last step.
    return (0 if column.prefixed else 1, {"epoch": 0, "": 1, "step": 2}[column.suffix])


def loss_columns(columns: list[Column], split: str, header: list[str], fmt: str, notes: list[str]) -> list[Column]:
    found = sorted((c for c in columns if c.split == split and c.base == "loss"), key=order)
    qualifiers = list(dict.fromkeys(c.qualifier for c in found))
    if len(qualifiers) > 1:  # two validation sets: real_val_loss, font_val_loss
        found = [c for c in found if c.qualifier == qualifiers[0]]
        others = [c.name for c in columns if c.split == split and c.base == "loss" and c.qualifier != qualifiers[0]]
        notes.append(
            f"Several {'validation' if split == 'val' else 'training'} sets: read `{found[0].name}` (the first), "
            f"not {', '.join(f'`{o}`' for o in others)}."
        )
    if found:
        if split == "train" and " + " not in found[0].name and any(c.base.endswith("_loss") for c in columns):
            heads = [c.name for c in columns if c.base.endswith("_loss")]
            notes.append(
                f"Losses per output ({', '.join(f'`{h}`' for h in heads[:4])}{', ...' if len(heads) > 4 else ''}) "
                f"are left out: the losses read are the totals."
            )
        return found
    parts = [c for c in columns if c.split == split and c.base.endswith("_loss") and not c.qualifier]
    if parts:  # `mean_loss` and `data_loss` but no `loss`: the total if one says so, else the first
        pick = next((c for c in parts if set(c.base.split("_")) & TOTAL_WORDS), parts[0])
        also = [c.name for c in parts if c is not pick]
        notes.append(
            f"No plain {'loss' if split == 'train' else 'val_loss'} column: `{pick.name}` is read as the "
            f"{'training' if split == 'train' else 'validation'} loss"
            + (f" (also logged: {', '.join(f'`{a}`' for a in also)})." if also else ".")
        )
        return [pick]
    if split == "train":
        listed = ", ".join(header)
        names = "train_loss or loss" + (", or train_loss_epoch / train_loss_step" if fmt == "lightning" else "")
        raise DataError(f"the log needs a training loss column ({names}); found columns: {listed}")
    return []  # no validation: read, and said so


def direction(metric: str) -> bool | None:
    words = set(metric.split("_"))
    if words & HIGHER_IS_BETTER or any(w.startswith(("acc", "map")) for w in words):
        return True
    if words & LOWER_IS_BETTER:
        return False
    return None


def metric_columns(columns: list[Column], val_loss: list[Column]) -> tuple[str | None, list[Column], list[Column]]:
    """The metric to show: accuracy-like first, then other known ones; one logged for validation if any."""
    qualifier = val_loss[0].qualifier if val_loss else ""
    candidates = [
        c
        for c in columns
        if not c.base.endswith("loss")
        and ((c.split == "train" and not c.qualifier) or (c.split == "val" and c.qualifier == qualifier))
    ]
    validated = {c.base for c in candidates if c.split == "val"}
    # A bare training-side name without a val_ twin is not a metric (`time`, `seconds`, `steer_mae`).
    bases = list(dict.fromkeys(c.base for c in candidates if c.base in validated or c.prefixed))
    if not bases:
        return None, [], []

    def rank(base: str) -> tuple[int, int, int]:
        both = any(c.base == base and c.split == "train" for c in candidates) and base in validated
        higher = direction(base)
        accuracy = any(w.startswith("acc") for w in base.split("_"))
        map_50_95 = 0 if "95" in base.split("_") else 1  # YOLO: mAP50-95 before mAP50, precision, recall
        return (0 if both else 1, 0 if accuracy else 1 if higher else 2 if higher is False else 3, map_50_95)

    metric = min(bases, key=rank)
    train = sorted((c for c in candidates if c.base == metric and c.split == "train"), key=order)
    val = sorted((c for c in candidates if c.base == metric and c.split == "val"), key=order)
    return metric, train, val
