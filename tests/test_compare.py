"""core/compare.py on runs really trained (a few epochs on 200 rows) and stored in a throw-away store."""

from __future__ import annotations

import io
import math
from dataclasses import fields, replace

import pandas as pd
import pytest
import torch

from core import compare
from core.data.builtin import load_builtin
from core.export.models import model_files
from core.hyperparameters import Hyperparameters
from core.store.runs import RunStore, StoredRun
from core.workers.jobs import run_job
from core.workers.spec import submit_run

RATES = (0.001, 0.01, 0.1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return RunStore(f"sqlite:///{tmp_path_factory.mktemp('compare') / 'runs.sqlite'}")


@pytest.fixture(scope="module")
def trained(store: RunStore) -> list[StoredRun]:
    """Three runs of one workspace, differing only in the learning rate (3 epochs each, 200 moons)."""
    dataset = load_builtin("moons", samples=200, noise=0.2, seed=0)
    runs = []
    for rate in RATES:
        hp = Hyperparameters(learning_rate=rate, hidden_layers=1, width=8, epochs=3, batch_size=32, seed=0)
        spec = submit_run(
            store,
            workspace="compare-ws",
            kind="train",
            dataset=dataset,
            hp=hp,
            spec={"name": "moons", "samples": 200, "noise": 0.2, "seed": 0},
        )
        assert run_job(spec) == "completed"
        run = store.get(spec.run_id)
        assert run is not None
        runs.append(run)
    return runs


@pytest.fixture(scope="module")
def failed(store: RunStore) -> StoredRun:
    """A run that failed before its first epoch: no history, no diagnosis, no kept epoch."""
    run_id = store.create_run(
        workspace="compare-ws", kind="train", dataset={"name": "moons", "task": "classification", "spec": {"name": "moons"}},
        fingerprint="x", hyperparameters=Hyperparameters().to_dict(), owner="test",
    )  # fmt: skip
    store.fail(run_id, "Training failed: out of memory")
    run = store.get(run_id)
    assert run is not None and run.history == []
    return run


def _older(run: StoredRun) -> StoredRun:
    """The same run as an older version stored it: without the activation knob."""
    return replace(
        run, id="0ld" + run.id[3:], hyperparameters={k: v for k, v in run.hyperparameters.items() if k != "activation"}
    )


def test_table_has_the_score_columns_in_order_then_every_hyperparameter(trained) -> None:
    table = compare.runs_table(trained)
    columns = list(table.columns)
    expected_start = ["run", "created", "kind", "dataset", "task", "status", "verdict", "kept epoch", "kept val loss"]
    assert columns[: len(expected_start)] == expected_start
    assert (
        columns.index("kept val metric") < columns.index("test metric") < columns.index("epochs run") < columns.index("seconds")
    )
    hyper = [f.name for f in fields(Hyperparameters)]
    assert columns[columns.index("seconds") + 1 :] == hyper
    assert list(table["run"]) == [r.id[:6] for r in trained]  # one row per run, in the order given
    assert list(table["learning_rate"]) == list(RATES)
    assert list(table["epochs run"]) == [3, 3, 3] and len(set(columns)) == len(columns)
    assert all(math.isfinite(v) for v in table["kept val loss"])
    assert "_" not in "".join(table["verdict"])  # "good fit", not "good_fit"


def test_table_of_a_failed_run_and_an_older_run_and_of_nothing(trained, failed) -> None:
    older = _older(trained[0])
    table = compare.runs_table([failed, older])
    assert table.loc[0, "status"] == "failed" and table.loc[0, "epochs run"] == 0
    assert math.isnan(table.loc[0, "kept val loss"])
    assert pd.isna(table.loc[1, "activation"])  # the knob it lacks: still a column, empty
    empty = compare.runs_table([])
    assert len(empty) == 0 and "learning_rate" in empty.columns and "kept val loss" in empty.columns


def test_diff_shows_only_the_knobs_that_differ(trained) -> None:
    diff = compare.hp_diff(trained[:2], labels=["a", "b"])
    assert list(diff.index) == ["learning_rate"]
    assert list(diff.loc["learning_rate"]) == ["0.001", "0.01"]
    assert list(diff.columns) == ["a", "b"]
    assert compare.hp_diff([trained[0], trained[0]]).empty  # nothing differs: no rows


def test_diff_includes_data_knobs_and_a_knob_an_older_run_lacks(trained) -> None:
    other_data = replace(trained[1], dataset=trained[1].dataset | {"spec": {"name": "moons", "samples": 300, "noise": 0.2}})
    diff = compare.hp_diff([trained[0], other_data, _older(trained[0])])
    assert "samples" in diff.index and "noise" not in diff.index and "dataset" not in diff.index
    assert list(diff.loc["activation"]) == ["relu", "relu", "–"]
    marks = compare.diff_marks(diff)
    assert list(marks.loc["activation"]) == [False, False, True]
    assert list(marks.loc["samples"]) == [False, True, False]
    html = compare.diff_styler(diff).to_html()
    assert compare.DIFF_HIGHLIGHT.split(";")[0] in html and "Activation" in html  # highlighted, knob labels shown


def _traces(fig):  # type: ignore[no-untyped-def]
    return [t for t in fig.data]


def test_overlay_has_train_and_validation_per_run_and_best_epoch_marks(trained) -> None:
    fig = compare.overlay_figure(trained[:2], labels=["a", "b"])
    lines = [t for t in _traces(fig) if t.mode == "lines"]
    assert [t.name for t in lines] == ["a", "a (training)", "b", "b (training)"]
    assert [t.line.dash for t in lines] == [None, "dash", None, "dash"]  # validation solid, training dashed
    assert lines[0].line.color == lines[1].line.color != lines[2].line.color  # one colour per run
    assert list(lines[0].y) == [r["val_loss"] for r in trained[0].history]
    best = [t for t in _traces(fig) if t.mode == "markers" and t.meta == "best"]
    assert len(best) == 2
    for mark, run in zip(best, trained[:2], strict=True):
        assert list(mark.x) == [run.best_epoch]
        assert mark.y[0] == pytest.approx(run.history[run.best_epoch - 1]["val_loss"])
    metric = compare.overlay_figure(trained[:2], "metric")
    assert metric.layout.yaxis.title.text == "accuracy"
    assert list(metric.data[0].y) == [r["val_metric"] for r in trained[0].history]
    with pytest.raises(ValueError):
        compare.overlay_figure(trained, "accuracy")


def test_overlay_of_a_failed_run_draws_empty_curves_and_no_mark(trained, failed) -> None:
    fig = compare.overlay_figure([failed, trained[0]])
    assert len(fig.data[0].x) == 0 and len(fig.data[1].x) == 0
    assert all(t.legendgroup != "run0" for t in fig.data if t.mode == "markers")
    assert compare.overlay_figure([trained[0]], log_scale=True).layout.yaxis.type == "log"


def test_parallel_coordinates_has_the_differing_knobs_and_the_kept_loss(trained, failed) -> None:
    fig = compare.parallel_figure([*trained, failed], labels=["a", "b", "c", "d"])
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["run", "Learning rate", "kept val loss"]  # the failed run has no line
    assert list(dims[0].ticktext) == ["a", "b", "c"]
    assert list(dims[1].ticktext) == ["0.001", "0.01", "0.1"]  # placed by their step on the ladder
    assert list(dims[-1].values) == pytest.approx([compare.kept_val_loss(r) for r in trained])
    assert list(fig.data[0].line.color) == list(dims[-1].values)
    older = compare.parallel_figure([*trained[:2], _older(trained[2])])
    activation = next(d for d in older.data[0].dimensions if d.label == "Activation")
    assert list(activation.ticktext) == ["relu", "–"]
    same = compare.parallel_figure([trained[0], trained[0], trained[0]])
    assert len(same.data[0].dimensions) == 2 + sum(k.tunable for k in compare.KNOBS.values())
    with pytest.raises(ValueError):
        compare.parallel_figure([failed])


def test_selection_is_two_to_six_runs(trained) -> None:
    assert compared([])[0] == [] and "Select 2 to 6" in (compared([])[1] or "")
    one, hint = compared(trained[:1])
    assert one == trained[:1] and hint and "at least one more" in hint
    assert compared(trained) == (trained, None)
    many, message = compared(trained * 3)
    assert len(many) == 6 and message and "only the first 6" in message


def compared(runs):  # type: ignore[no-untyped-def]
    return compare.compared(runs)


def test_verdict_lines_of_a_diagnosed_and_a_failed_run(trained, failed) -> None:
    title, severity, first = compare.verdict_lines(trained[0])
    assert title and severity in ("error", "warning", "success") and first == trained[0].diagnosis["evidence"][0]
    assert compare.verdict_lines(failed) == ("Failed", "error", "Training failed: out of memory")
    running = replace(failed, status="running", error=None)
    assert compare.verdict_lines(running)[1] == "info"
    deletable, active = compare.split_active([trained[0], running])
    assert deletable == [trained[0]] and active == [running]


def test_train_settings_give_the_data_and_every_knob(trained) -> None:
    settings = compare.train_settings(trained[1])
    assert settings.data == {"dataset_name": "moons", "samples": 200, "noise": 0.2}
    assert settings.hyperparameters == Hyperparameters.from_dict(trained[1].hyperparameters)
    assert settings.notes == []
    older = compare.train_settings(_older(trained[1]))
    assert older.hyperparameters.activation == Hyperparameters().activation
    assert older.hyperparameters.learning_rate == 0.01
    assert any("activation" in note for note in older.notes)
    csv = replace(trained[0], dataset={"name": "towns.csv", "spec": {"file": "towns.csv", "target": "price"}})
    from_file = compare.train_settings(csv)
    assert from_file.data == {} and "cannot be re-opened automatically" in from_file.notes[0]
    bad = replace(trained[0], hyperparameters=trained[0].hyperparameters | {"learning_rate": 5.0})
    assert compare.train_settings(bad).hyperparameters.learning_rate == Hyperparameters().learning_rate
    iris = replace(trained[0], dataset={"name": "iris", "spec": {"name": "iris", "seed": 0}})
    assert compare.train_settings(iris).data == {"dataset_name": "iris"}


def test_the_rebuilt_data_exports_the_stored_model(trained, store) -> None:
    run = trained[0]
    dataset = compare.rebuild_dataset(run)
    assert dataset is not None and len(dataset.y_train) == run.dataset["rows"]["train"]
    pt, config = model_files(run, dataset, store.model_state(run.id))
    state = torch.load(io.BytesIO(pt), weights_only=True)
    assert set(state) and config["hyperparameters"]["learning_rate"] == RATES[0]
    csv = replace(run, dataset={"name": "towns.csv", "spec": {"file": "towns.csv"}})
    assert compare.rebuild_dataset(csv) is None and not compare.rebuildable(csv) and compare.rebuildable(run)
    assert compare.file_name(run, "run") == f"fitlab-run-{run.id[:6]}.json"
    assert compare.file_name(run, "model") == f"fitlab-model-{run.id[:6]}.pt"
    assert compare.file_name(run, "config") == f"fitlab-model-{run.id[:6]}.json"
