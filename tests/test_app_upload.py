"""Bring your own CSV on the train page (AppTest): real sklearn data, the profile, the questions, failures.

Uploads go through Streamlit's real file_uploader; training runs in the real worker thread.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_support import APP, last_run, train_until_verdict
from tests.sklearn_csvs import REAL_CSVS, write_real_csv
from ui.data_picker import TASKS
from ui.text import plain

CORPUS = Path(__file__).resolve().parent / "corpus"


def _open_upload() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.slider(key="hp_epochs").set_value(2)
    at.selectbox(key="dataset_name").select("Upload a CSV…").run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.sidebar.file_uploader(key="csv").set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def _dataset_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Dataset "))


@pytest.mark.parametrize("name", sorted(REAL_CSVS))
def test_real_sklearn_csv_trains_in_the_dashboard(name: str, tmp_path: Path) -> None:
    target, task, rows, features = REAL_CSVS[name]
    at = _upload(_open_upload(), f"{name}.csv", write_real_csv(name, tmp_path).read_bytes())
    assert at.selectbox(key="csv_target").value == target
    if name == "wine":  # classes 0, 1, 2: detected as classes, and the page says it could be amounts
        assert at.radio(key="csv_task").value == "classification"
        assert any(plain("Few whole numbers can be classes or amounts") in c.value for c in at.sidebar.caption)
    assert at.radio(key="csv_task").value == task
    assert any(c.value.startswith(plain(f"Detected: {task}, because")) for c in at.sidebar.caption)
    assert _dataset_caption(at).startswith(f"Dataset **{plain(name + '.csv')}** ({task}): ")
    assert f"{features} inputs" in _dataset_caption(at)
    assert train_until_verdict(at).startswith("**Verdict:")
    last = last_run(at)
    assert last.dataset["name"] == f"{name}.csv" and len(last.history) == 2
    assert sum(last.dataset["rows"].values()) == rows


def test_preview_profile_and_notes_before_training() -> None:
    at = _upload(_open_upload(), "customers.csv", (CORPUS / "id_columns.csv").read_bytes())
    preview, profile = at.sidebar.dataframe[0].value, at.sidebar.dataframe[1].value
    assert list(preview.columns) == ["column 1", "customer_id", "size", "colour", "label"] and len(preview) == 20
    table = profile.set_index("column")
    assert tuple(table.loc["customer_id", ["use", "why"]]) == ("dropped", "ID-like, a different value in almost every row")
    assert table.loc["label", "use"] == "target"
    note = "Note: dropped 'column 1', 'customer_id': ID-like, a different value in almost every row"
    assert plain(note) in [c.value for c in at.sidebar.caption]
    assert plain("120 rows × 5 columns; comma-separated, UTF-8.") in [c.value for c in at.sidebar.caption]
    assert at.sidebar.get("download_button"), "the profile can be downloaded"
    assert "50 MB" in (at.sidebar.file_uploader(key="csv").help or "")


def test_a_new_target_asks_the_task_again_and_leaves_the_exclusions() -> None:
    at = _upload(_open_upload(), "wine_quality.csv", (CORPUS / "target_few_whole_numbers.csv").read_bytes())
    detected = at.radio(key="csv_task").value
    assert detected in ("classification", "regression")  # 6 whole numbers: the detected task, never blank
    assert at.radio(key="csv_task").options == [f"{t} (detected)" if t == detected else t for t in TASKS]
    at.radio(key="csv_task").set_value("regression").run()
    at.multiselect(key="csv_exclude").select("acidity").run()
    assert plain("wine_quality.csv") in _dataset_caption(at) and "(regression)" in _dataset_caption(at)
    assert plain("Note: left out by you: 'acidity'") in [c.value for c in at.sidebar.caption]
    at.selectbox(key="csv_target").select("alcohol").run()
    assert at.radio(key="csv_task").value == "regression"  # fractions: not a question
    assert at.multiselect(key="csv_exclude").value == ["acidity"]
    at.selectbox(key="csv_target").select("acidity").run()
    assert at.multiselect(key="csv_exclude").value == []  # the target is never left out
    assert "quality" in at.multiselect(key="csv_exclude").options


def test_an_unusable_target_keeps_the_previous_dataset_and_the_profile() -> None:
    at = _upload(_open_upload(), "rare.csv", (CORPUS / "target_rare_class.csv").read_bytes())
    errors = [e.value for e in at.sidebar.error]
    assert errors == [f"Could not use this data: {plain(str(_refusal('target_rare_class.csv')))}"]
    assert any("Still using the previous dataset, moons." in i.value for i in at.sidebar.info)
    assert len(at.sidebar.dataframe) >= 2  # preview and profile still there to see why
    assert _dataset_caption(at).startswith("Dataset **moons** ")
    at.selectbox(key="csv_target").select("colour").run()  # another target works
    assert not at.sidebar.error
    assert _dataset_caption(at).startswith(f"Dataset **{plain('rare.csv')}** (classification)")


def test_a_file_that_cannot_be_read_says_why_next_to_the_uploader() -> None:
    at = _upload(_open_upload(), "shifted.csv", (CORPUS / "ragged_many_rows.csv").read_bytes())
    assert [e.value for e in at.sidebar.error] == [f"Could not use this data: {plain(_refusal('ragged_many_rows.csv'))}"]
    assert "csv_target" not in [box.key for box in at.sidebar.selectbox]  # nothing to choose from a file not read
    assert _dataset_caption(at).startswith("Dataset **moons** ")
    at.run()  # a rerun does not read the file again, and says the same
    assert [e.value for e in at.sidebar.error] == [f"Could not use this data: {plain(_refusal('ragged_many_rows.csv'))}"]


def _refusal(name: str) -> str:
    from tests.test_csv_corpus import REFUSED

    return REFUSED[name][1]
