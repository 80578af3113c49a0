"""Training speed: FitLab's Trainer against the plain PyTorch loop a user would write and scikit-learn's MLPClassifier.

Competitors, on identical data (make_classification, 20 features, 2 classes, through core.data.dataset.prepare),
the same model (2 x 128 ReLU, no dropout) and Adam at lr 1e-3, for batch sizes 32 and 256:

  (a) core.training.trainer.Trainer, as is (it sets one intra-op thread itself, see configure_threads);
  (b) the plain loop: DataLoader(TensorDataset, shuffle=True), zero_grad / backward / step, loss.item()
      per batch, then a validation pass with a batch-256 DataLoader under torch.no_grad(), at torch's
      default thread count;
  (c) the same plain loop with torch.set_num_threads(1): (b)/(c) is the thread effect, (c)/(a) the loop effect;
  (f) the textbook loop at its best, a fair competitor: the training tensors indexed by one random
      permutation per epoch and sliced per batch (no DataLoader), fused Adam, one intra-op thread like (a),
      the batch losses summed on the tensor and read once per epoch, validation in one pass under
      torch.inference_mode(): (f)/(a) is what FitLab's flat buffers and functional forward add over that;
  (d)/(e) scikit-learn's MLPClassifier, same layers (128, 128), adam at lr 1e-3, alpha 0, the same batch size,
      shuffle=True, early_stopping=False; one epoch is one partial_fit call (the first with classes=), then
      predict_proba and log loss on the validation set; (d) under threadpoolctl.threadpool_limits(1), (e) at the
      BLAS library's default thread count. The faster of the two is the reference: the issue target is
      Trainer s/epoch / MLPClassifier s/epoch <= 1.0 at both batch sizes in one run.

Each competitor runs 6 epochs; the first is a warm-up, the reported figure is the median of the other 5
(5, not 3: on these shared machines one epoch in a few runs 10-50 % slow, and a median of 3 does not
always absorb that). With --repeats N the whole set runs N times, the competitors' order reversed every
other time (alternating, so a slow spell of the machine does not land on one competitor), and the median
is taken over all N x 5 measured epochs.
Every epoch is timed from the outside, validation included (the Trainer also evaluates the training set).
Absolute times drift on shared machines: read the ratios, which come from the same process run.

    .venv/bin/python bench/bench_training.py            # full: 20,000 training rows, writes bench/REPORT-training.md
    .venv/bin/python bench/bench_training.py --quick    # smoke run: 2,000 rows, stdout only (unless --report)
    .venv/bin/python bench/bench_training.py --repeats 3  # alternating repeats
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

# Before anything (the Trainer included) changes it: the count a user's script starts with.
DEFAULT_THREADS = torch.get_num_threads()

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/bench_training.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from core.data.dataset import Dataset, prepare  # noqa: E402
from core.hyperparameters import Hyperparameters  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

FEATURES = 20
FULL_ROWS = 20_000
QUICK_ROWS = 2_000
BATCH_SIZES = (32, 256)
EPOCHS = 6  # the first is a warm-up
WARMUP = 1
WIDTH = 128
HIDDEN_LAYERS = 2
LEARNING_RATE = 1e-3
VAL_BATCH = 256
SEED = 0
DEFAULT_REPORT = ROOT / "bench" / "REPORT-training.md"
PLAIN_LABEL = "plain `DataLoader` loop, default threads"
SLICED_LABEL = "textbook loop at its best (sliced tensors, fused Adam, 1 thread)"


@dataclass
class Result:
    key: str  # "a" ... "e"
    label: str
    batch_size: int
    threads: int
    seconds: list[float]  # every epoch, warm-up included
    val_loss: float
    val_accuracy: float

    @property
    def measured(self) -> list[float]:
        return self.seconds[WARMUP:]

    @property
    def median(self) -> float:
        return statistics.median(self.measured)


# ---------------------------------------------------------------- data


def make_dataset(train_rows: int, seed: int = SEED) -> Dataset:
    """A 2-class make_classification problem whose training split has exactly `train_rows` rows.

    prepare() keeps 60 % for training (20 % validation, 20 % test); the sample count is adjusted
    until the split's rounding gives the wanted training size.
    """
    samples = round(train_rows / 0.6)
    for _ in range(10):
        x, y = make_classification(
            n_samples=samples,
            n_features=FEATURES,
            n_informative=10,
            n_redundant=5,
            n_classes=2,
            random_state=seed,
        )
        frame = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(FEATURES)])
        ds = prepare(frame, pd.Series(y, name="target"), name="make_classification", task="classification", seed=seed)
        missing = train_rows - len(ds.y_train)
        if missing == 0:
            return ds
        samples += missing if abs(missing) == 1 else round(missing / 0.6)
    raise RuntimeError(f"could not size the dataset to {train_rows} training rows")


# ---------------------------------------------------------------- competitors


def run_trainer(ds: Dataset, batch_size: int) -> Result:
    """(a): FitLab's Trainer as the app uses it; each yield is one epoch, timed between yields."""
    hp = Hyperparameters(
        learning_rate=LEARNING_RATE,
        batch_size=batch_size,
        epochs=EPOCHS,
        hidden_layers=HIDDEN_LAYERS,
        width=WIDTH,
        dropout=0.0,
        optimizer="adam",
        activation="relu",
        seed=SEED,
    )
    trainer = Trainer(ds, hp)  # sets the thread count (1 unless FITLAB_TORCH_THREADS says otherwise)
    threads = torch.get_num_threads()
    seconds = []
    last = time.perf_counter()
    for _record in trainer:
        now = time.perf_counter()
        seconds.append(now - last)
        last = now
    final = trainer.history[-1]
    return Result("a", "FitLab `Trainer`", batch_size, threads, seconds, final.val_loss, final.val_metric)


def textbook_model(ds: Dataset) -> nn.Sequential:
    """The model (b), (c) and (f) train: 2 x 128 ReLU as a user writes it."""
    return nn.Sequential(
        nn.Linear(ds.n_inputs, WIDTH),
        nn.ReLU(),
        nn.Linear(WIDTH, WIDTH),
        nn.ReLU(),
        nn.Linear(WIDTH, ds.n_outputs),
    )


def run_plain(ds: Dataset, batch_size: int, threads: int, key: str, label: str) -> Result:
    """(b)/(c): the textbook loop, DataLoader and all, at the given intra-op thread count."""
    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    x_train, y_train = torch.tensor(ds.x_train), torch.tensor(ds.y_train)  # copies: the arrays may be read-only
    x_val, y_val = torch.tensor(ds.x_val), torch.tensor(ds.y_val)
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=VAL_BATCH)

    model = textbook_model(ds)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()

    seconds = []
    val_loss = val_accuracy = float("nan")
    for _epoch in range(EPOCHS):
        started = time.perf_counter()
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item()
        _train_loss = running / len(train_loader)

        model.eval()
        total, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                out = model(xb)
                total += loss_fn(out, yb).item() * len(yb)
                correct += (out.argmax(dim=1) == yb).sum().item()
                seen += len(yb)
        val_loss, val_accuracy = total / seen, correct / seen
        seconds.append(time.perf_counter() - started)
    return Result(key, label, batch_size, threads, seconds, val_loss, val_accuracy)


def run_sliced(ds: Dataset, batch_size: int) -> Result:
    """(f): the textbook loop at its best: sliced tensors, fused Adam, one thread, one .item() per epoch."""
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    x_train, y_train = torch.tensor(ds.x_train), torch.tensor(ds.y_train)
    x_val, y_val = torch.tensor(ds.x_val), torch.tensor(ds.y_val)
    model = textbook_model(ds)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    val_loss = val_accuracy = float("nan")
    rows = len(y_train)
    for _epoch in range(EPOCHS):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(rows)
        xs, ys = x_train[order], y_train[order]
        running = torch.zeros(())
        for i in range(0, rows, batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[i : i + batch_size]), ys[i : i + batch_size])
            loss.backward()
            optimizer.step()
            running += loss.detach()
        _train_loss = float(running) / -(-rows // batch_size)
        model.eval()
        with torch.inference_mode():
            out = model(x_val)
            val_loss = float(loss_fn(out, y_val))
            val_accuracy = float((out.argmax(dim=1) == y_val).float().mean())
        seconds.append(time.perf_counter() - started)
    return Result("f", SLICED_LABEL, batch_size, 1, seconds, val_loss, val_accuracy)


def blas_threads() -> int:
    """The BLAS pool's thread count as scikit-learn's numpy sees it now (the largest if several)."""
    counts = [int(info["num_threads"]) for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts, default=1)


def _mlp_epochs(ds: Dataset, batch_size: int) -> tuple[list[float], float, float]:
    model = MLPClassifier(
        hidden_layer_sizes=(WIDTH,) * HIDDEN_LAYERS,
        activation="relu",
        solver="adam",
        learning_rate_init=LEARNING_RATE,
        alpha=0.0,
        batch_size=batch_size,
        shuffle=True,
        early_stopping=False,
        random_state=SEED,
    )
    x_train, y_train, x_val, y_val = ds.x_train, ds.y_train, ds.x_val, ds.y_val
    classes = np.unique(y_train)
    seconds = []
    val_loss = val_accuracy = float("nan")
    for epoch in range(EPOCHS):
        started = time.perf_counter()
        if epoch == 0:
            model.partial_fit(x_train, y_train, classes=classes)
        else:
            model.partial_fit(x_train, y_train)
        probabilities = model.predict_proba(x_val)
        val_loss = log_loss(y_val, probabilities, labels=model.classes_)
        val_accuracy = float(np.mean(model.classes_[probabilities.argmax(axis=1)] == y_val))
        seconds.append(time.perf_counter() - started)
    return seconds, float(val_loss), val_accuracy


def run_mlp(ds: Dataset, batch_size: int, limit: int | None, key: str, label: str) -> Result:
    """(d)/(e): scikit-learn's MLPClassifier, epoch by epoch through partial_fit, at a BLAS thread limit."""
    if limit is None:
        threads = blas_threads()
        seconds, val_loss, val_accuracy = _mlp_epochs(ds, batch_size)
    else:
        with threadpool_limits(limits=limit):
            threads = blas_threads()
            seconds, val_loss, val_accuracy = _mlp_epochs(ds, batch_size)
    return Result(key, label, batch_size, threads, seconds, val_loss, val_accuracy)


def competitors(ds: Dataset, batch_size: int) -> list:  # type: ignore[type-arg]
    """(key, how to run it) in the report's order; each call leaves torch at the user's default thread count."""

    def default_threads(run):  # type: ignore[no-untyped-def]
        def call() -> Result:
            result = run()
            torch.set_num_threads(DEFAULT_THREADS)  # the Trainer and (c)/(f) leave 1 thread set
            return result

        return call

    return [
        ("a", default_threads(lambda: run_trainer(ds, batch_size))),
        ("b", default_threads(lambda: run_plain(ds, batch_size, DEFAULT_THREADS, "b", PLAIN_LABEL))),
        ("c", default_threads(lambda: run_plain(ds, batch_size, 1, "c", "plain `DataLoader` loop, 1 thread"))),
        ("f", default_threads(lambda: run_sliced(ds, batch_size))),
        ("d", default_threads(lambda: run_mlp(ds, batch_size, 1, "d", "scikit-learn `MLPClassifier`, 1 BLAS thread"))),
        ("e", default_threads(lambda: run_mlp(ds, batch_size, None, "e", "scikit-learn `MLPClassifier`, default BLAS threads"))),
    ]


def run_all(ds: Dataset, repeats: int = 1) -> list[Result]:
    """Every competitor at every batch size, `repeats` times, the order reversed every other repeat.

    A competitor's repeats are merged: each repeat's warm-up epoch dropped, the measured epochs pooled."""
    merged: dict[tuple[int, str], Result] = {}
    for repeat in range(repeats):
        for batch_size in BATCH_SIZES:
            order = competitors(ds, batch_size)
            for key, run in order if repeat % 2 == 0 else list(reversed(order)):
                result = run()
                if (batch_size, key) not in merged:
                    merged[(batch_size, key)] = result
                else:
                    merged[(batch_size, key)].seconds.extend(result.measured)
    return [merged[(b, key)] for b in BATCH_SIZES for key, _ in competitors(ds, b)]


def mlp_reference(results: list[Result], batch_size: int) -> Result:
    """The faster MLPClassifier run at this batch size: (d) or (e)."""
    return min((r for r in results if r.batch_size == batch_size and r.key in ("d", "e")), key=lambda r: r.median)


# ---------------------------------------------------------------- report


def nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(len(os.sched_getaffinity(0)))


def command_line() -> str:
    executable = Path(sys.executable)
    try:
        shown = str(executable.relative_to(Path.cwd()))
    except ValueError:
        shown = str(executable)
    return shlex.join([shown, *sys.argv])


def table(results: list[Result]) -> str:
    rows = [
        "| batch | competitor | threads (torch / BLAS) | s/epoch (median) | measured epochs (s) | vs (a) | val acc |",
        "|---:|---|---:|---:|---|---:|---:|",
    ]
    for batch_size in BATCH_SIZES:
        group = [r for r in results if r.batch_size == batch_size]
        base = next(r for r in group if r.key == "a").median
        for r in group:
            epochs = ", ".join(f"{s:.3f}" for s in r.measured)
            rows.append(
                f"| {batch_size} | ({r.key}) {r.label} | {r.threads} | {r.median:.3f} | {epochs} | "
                f"{r.median / base:.2f}x | {r.val_accuracy:.3f} |"
            )
    return "\n".join(rows)


def target(results: list[Result]) -> str:
    lines = [
        "| batch | (a) Trainer s/epoch | MLPClassifier reference | reference s/epoch | (a) / MLPClassifier | target <= 1.0x |",
        "|---:|---:|---|---:|---:|---|",
    ]
    for batch_size in BATCH_SIZES:
        trainer = next(r for r in results if r.batch_size == batch_size and r.key == "a")
        ref = mlp_reference(results, batch_size)
        ratio = trainer.median / ref.median
        lines.append(
            f"| {batch_size} | {trainer.median:.3f} | ({ref.key}), {ref.threads} thread(s) | {ref.median:.3f} | "
            f"{ratio:.2f}x | {'met' if ratio <= 1.0 else 'NOT met'} |"
        )
    return "\n".join(lines)


def effects(results: list[Result]) -> str:
    lines = []
    for batch_size in BATCH_SIZES:
        by_key = {r.key: r.median for r in results if r.batch_size == batch_size}
        lines.append(
            f"- batch {batch_size}: thread effect (b)/(c) = {by_key['b'] / by_key['c']:.2f}x, "
            f"loop effect (c)/(a) = {by_key['c'] / by_key['a']:.2f}x, "
            f"total (b)/(a) = {by_key['b'] / by_key['a']:.2f}x; "
            f"the textbook loop at its best (f)/(a) = {by_key['f'] / by_key['a']:.2f}x"
        )
    return "\n".join(lines)


def report(results: list[Result], train_rows: int, ds: Dataset, load_before: str, load_after: str, elapsed: float) -> str:
    env_threads = os.environ.get("FITLAB_TORCH_THREADS")
    return f"""# Training speed: FitLab `Trainer` vs the plain PyTorch loop and scikit-learn's `MLPClassifier`

- date: {dt.datetime.now().astimezone().isoformat(timespec="seconds")}
- command: `{command_line()}`
- torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}
- `nproc`: {nproc()}; torch default intra-op threads: {DEFAULT_THREADS}; FITLAB_TORCH_THREADS: {env_threads or "unset"}
- load average (1/5/15 min) before: {load_before}; after: {load_after}; benchmark wall time {elapsed:.1f} s
- data: `make_classification`, {FEATURES} features, 2 classes, through `core.data.dataset.prepare`: \
{len(ds.y_train):,} training rows, {len(ds.y_val):,} validation rows (requested {train_rows:,})
- model: {HIDDEN_LAYERS} x {WIDTH} ReLU, no dropout; Adam lr {LEARNING_RATE:g}; cross-entropy \
(MLPClassifier: the same layers, adam, alpha 0, log loss)
- timing: {EPOCHS} epochs per competitor and repeat, median of the last {EPOCHS - WARMUP} of each (first is a warm-up), \
pooled over the repeats (order reversed every other repeat); an epoch is \
training plus validation, as each competitor does it ((a) also evaluates the training set)

{table(results)}

"vs (a)" is the competitor's median over the Trainer's: above 1x the Trainer is faster.

## Target: FitLab `Trainer` over scikit-learn's `MLPClassifier` (the faster of (d) and (e))

{target(results)}

## Effects within PyTorch

{effects(results)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run on {QUICK_ROWS:,} training rows instead of {FULL_ROWS:,}"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help=f"where to write the markdown report (default: {DEFAULT_REPORT.relative_to(ROOT)} for full runs; "
        "quick runs write none unless given)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="run every competitor N times, alternating the order")
    args = parser.parse_args(argv)

    train_rows = QUICK_ROWS if args.quick else FULL_ROWS
    report_path = args.report if args.report is not None else (None if args.quick else DEFAULT_REPORT)
    ds = make_dataset(train_rows)
    load_before = "/".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()
    results = run_all(ds, args.repeats)
    elapsed = time.perf_counter() - started
    load_after = "/".join(f"{v:.2f}" for v in os.getloadavg())

    text = report(results, train_rows, ds, load_before, load_after, elapsed)
    print(text)
    if report_path is not None:
        report_path.write_text(text)
        print(f"written to {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
