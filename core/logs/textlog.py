"""Text logs: a printed or logging-module log, one line per epoch (or per few steps) among other lines.

``Epoch [3/50], Train Loss: 1.93, Train Acc: 22.06%, Val Loss: 1.87, Val Acc: 17.72%``,
``Epoch 3/50 | Train Loss: x Acc: y | Val Loss: z Acc: w``, ``| end of epoch 3 | valid loss 5.1``.

The patterns take time in proportion to a line's length (possessive quantifiers, a label of at most
LABEL_WORDS words, a label starting only where a word starts), whatever the line holds. A log with more
lines that name an epoch and a loss than MAX_LINES_PER_EPOCH times FITLAB_MAX_LOG_EPOCHS is read from a
sample of them, said in a note.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.data.csvfile import DataError
from core.limits import LOG_COLUMNS, LOG_EPOCHS
from core.logs.cells import from_strings
from core.logs.names import SPLITS, norm
from core.logs.table import Table, limit_value

LABEL_WORDS = 8  # `mean train loss per batch` is 5
MAX_LINES_PER_EPOCH = 2  # lines parsed, at most, per epoch FITLAB_MAX_LOG_EPOCHS allows (a line takes ~20 µs)
# `Epoch [3/50]`, `Epoch 3/50`, `| end of epoch   3 |`; then `Label: 0.5`, `Label 0.5`, `LR: [0.001]`, `Acc: 22%`.
EPOCH_MARK = re.compile(r"\bepoch\b\s*+[\[(]?\s*+(\d++)\s*+(?:/\s*+\d++)?\s*+[\])]?", re.IGNORECASE)
NUMBER = r"nan|[-+]?inf|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
WORD = r"[A-Za-z][A-Za-z0-9_/.()-]*+"
PAIR = re.compile(
    rf"(?<![A-Za-z])({WORD}(?: {WORD}){{0,{LABEL_WORDS - 1}}}?)(?:\s*+[:=]\s*+|\s++)\[?\s*+({NUMBER})(%?)", re.IGNORECASE
)
SEGMENT = re.compile(r"(?<!\s)\s*+(?:,|\||(?<= )- )\s*+")
NON_FINITE = re.compile(r"\b(?:nan|inf)\b", re.IGNORECASE)

Pairs = list[tuple[str, str, bool]]
# Keras' console output puts the epoch on a line of its own (`Epoch 3/50`) and the values on the next:
# `195/195 [=====] - 75s 389ms/step - loss: 0.96 - accuracy: 0.65 - val_loss: 1.35 - val_accuracy: 0.59`
# (verbose=1; Keras 3 draws the bar with `━`), `32/32 - 1s - loss: 0.69 - val_loss: 0.69` (verbose=2).
KERAS_EPOCH = re.compile(r"^[ \t]*Epoch[ \t]+(\d+)/(\d+)[ \t]*$", re.MULTILINE)
KERAS_VALUES = re.compile(r"^[ \t]*\d+/\d+\b.*?\bloss: ")
KERAS_NOISE = re.compile(r"\b\d+(?:\.\d+)?(?:s|ms|us|µs)(?:/(?:step|epoch|sample))?\b")  # `75s 389ms/step`, `1s/epoch`


def keras_console(text: str, notes: list[str]) -> str | None:
    """Keras' console output as one line per epoch (`Epoch 3/50 - loss: ... - val_loss: ...`), or None when the
    text has no `Epoch N/M` line of its own. Of the progress lines after an epoch's line, the last one with a
    loss is that epoch's (its end: with verbose=1 a pasted log may hold the bar's earlier states too)."""
    if KERAS_EPOCH.search(text) is None:
        return None
    merged: list[str] = []
    epoch: str | None = None
    values: str | None = None
    for line in text.split("\n"):
        mark = KERAS_EPOCH.match(line)
        if mark is not None:
            if epoch is not None and values is not None:
                merged.append(f"{epoch} - {values}")
            epoch, values = f"Epoch {mark.group(1)}/{mark.group(2)}", None
        elif epoch is not None and KERAS_VALUES.match(line):
            values = KERAS_NOISE.sub("", line.split("]", 1)[-1] if "[" in line else line)
    if epoch is not None and values is not None:
        merged.append(f"{epoch} - {values}")
    if not merged:
        return None
    notes.append(
        f"Keras console output: {len(merged)} epoch(s), each read from the last progress line after its `Epoch N/M` line."
    )
    return "\n".join(merged)


def is_text_log(text: str) -> bool:
    return any(epoch_line(line) is not None for line in text.split("\n", 2000)[:2000])


def epoch_line(line: str) -> tuple[int, Pairs] | None:
    """(epoch, [(label, value, in percent)]) of a line like `Epoch 3/50, Train Loss: 0.4, Val Acc: 81%`.

    A line counts only when it has a loss: `Saved best model at epoch 3` does not. A label without a
    split word takes the one before it in its segment: `| Val Loss: 0.2 Acc: 0.9 |` gives `Val Acc`.
    """
    mark = EPOCH_MARK.search(line)
    if mark is None:
        return None
    pairs: Pairs = []
    for segment in SEGMENT.split(line[mark.end() :]):
        split_word = ""
        for match in PAIR.finditer(segment):
            label, value, percent = match.group(1), match.group(2), match.group(3) == "%"
            first = norm(label).split("_")[0]
            if first in SPLITS:
                split_word = re.split(r"[ _/-]", label)[0]
            elif split_word:
                label = f"{split_word} {label}"
            pairs.append((label, value, percent))
    if not any("loss" in norm(label).split("_") for label, _, _ in pairs):
        return None
    return int(mark.group(1)), pairs


def text_log_table(text: str, notes: list[str]) -> tuple[Table, int | None]:
    """The epoch lines of a text log as a table: an `epoch` column, then each label in order of appearance;
    and how many epochs the log has when only a sample of its lines was read (None: all were)."""
    lines = text.split("\n")
    # Only a line holding both words can be an epoch line: the others are passed over without a pattern.
    candidates = [i for i, line in enumerate(lines) if "epoch" in (low := line.lower()) and "loss" in low]
    limit = limit_value(LOG_EPOCHS)
    chosen, sampled, sample_note = candidates, None, ""
    if len(candidates) > MAX_LINES_PER_EPOCH * limit:
        chosen, sampled, sample_note = _sample_lines(lines, candidates, limit)
    header = ["epoch"]
    keys: dict[str, int] = {}  # normalized label -> column
    found: list[tuple[int, dict[int, str]]] = []
    percent: set[str] = set()
    for index in chosen:
        parsed = epoch_line(lines[index])
        if parsed is None:
            continue
        epoch, pairs = parsed
        cells = {0: str(epoch)}
        for label, value, in_percent in pairs:
            key = norm(label)
            if key not in keys:
                keys[key] = len(header)
                header.append(label)
            cells.setdefault(keys[key], value)  # `Acc:` twice without a split word: the first
            if in_percent:
                percent.add(header[keys[key]])
        found.append((index + 1, cells))
    if len(header) > limit_value(LOG_COLUMNS):
        raise DataError(f"the text log names {len(header):,} different values; FitLab reads at most {LOG_COLUMNS.named()}")
    other = sum(1 for line in lines if line.strip()) - len(candidates) + len(chosen) - len(found)
    notes.append(f"Text log: {len(found)} line(s) with an epoch number and a loss read; {other} other line(s) skipped.")
    notes.extend([sample_note] if sample_note else [])
    columns = [from_strings(pd.Series([cells.get(i) for _, cells in found], dtype=object)) for i in range(len(header))]
    lines_read = np.array([number for number, _ in found], dtype=np.int64)
    return Table(header, lines_read, columns, "text", header_width=len(header), percent=percent), sampled


def _sample_lines(lines: list[str], candidates: list[int], limit: int) -> tuple[list[int], int, str]:
    """The candidate lines read from a long text log: the last lines of evenly spaced epochs, with the first
    and the last epoch, each restart of the epoch count (and the epoch before it) and the first NaN/inf
    epoch (and the one before it). Returns them, the number of epochs (runs of one epoch number) and a note."""
    marks = [EPOCH_MARK.search(lines[i]) for i in candidates]
    kept = [(i, int(m.group(1))) for i, m in zip(candidates, marks, strict=True) if m is not None]
    indexes = np.array([i for i, _ in kept], dtype=np.int64)
    epochs = np.array([e for _, e in kept], dtype=np.int64)
    starts = np.flatnonzero(np.diff(epochs, prepend=-1) != 0)  # each run of lines with one epoch number
    blocks = len(starts)
    forced = {0, blocks - 1}
    restarts = np.flatnonzero(np.diff(epochs[starts]) < 0)[:100] + 1
    forced |= set(restarts.tolist()) | set((restarts - 1).tolist())
    bad = next((k for k, i in enumerate(indexes.tolist()) if NON_FINITE.search(lines[i])), None)
    if bad is not None:
        block = int(np.searchsorted(starts, bad, side="right")) - 1
        forced |= {block, max(block - 1, 0)}
    if blocks > limit:
        even = np.linspace(0, blocks - 1, max(limit - len(forced), 2)).round().astype(np.int64)
        chosen = np.union1d(even, sorted(forced))
    else:
        chosen = np.arange(blocks)
    per_block = max(2, MAX_LINES_PER_EPOCH * limit // len(chosen))
    ends = np.append(starts[1:], len(epochs))
    picked = [int(i) for b in chosen.tolist() for i in indexes[max(starts[b], ends[b] - per_block) : ends[b]]]
    read = (
        f"{len(chosen):,} evenly spaced epochs (with the first and the last, where the epoch count restarts and the "
        f"first NaN/inf loss)"
        if blocks > limit
        else "each epoch"
    )
    note = (
        f"The text log has {len(candidates):,} lines with an epoch and a loss, in {blocks:,} epochs: more than FitLab "
        f"parses ({MAX_LINES_PER_EPOCH} lines per epoch of {LOG_EPOCHS.named()}). It read the last {per_block:,} "
        f"line(s) of {read}: {len(picked):,} lines."
    )
    return picked, blocks, note
