"""The one door to `st.session_state`: every key the pages keep between reruns, named and typed once.

A `Slot` is one key with its type and default; pages and ui modules call `state.SHOWN_RUN.get()` and
`state.SHOWN_RUN.set(run_id)` instead of spelling "shown_run" themselves (a typo there was a silent new
key). Some slots are also widget keys (`key=slot.key`): Streamlit writes them, callbacks read them.

The knob widgets (`hp_learning_rate`, ..., `samples`, `noise`, `dataset_name`) are one family of keys,
read and written with `widget_value` / `set_widget_value`; their remembered values live in `KNOBS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import streamlit as st

if TYPE_CHECKING:
    from ui.choice import DataChoice

T = TypeVar("T")


class Slot(Generic[T]):
    """One session-state key: `get()` gives its value or the default, `set()` stores one."""

    def __init__(self, key: str, default: T, doc: str) -> None:
        self.key, self.default, self.__doc__ = key, default, doc

    def get(self) -> T:
        return cast(T, st.session_state.get(self.key, self.default))

    def set(self, value: T) -> None:
        st.session_state[self.key] = value

    def is_set(self) -> bool:
        return self.key in st.session_state

    def clear(self) -> None:
        st.session_state.pop(self.key, None)

    def setdefault(self, make: Callable[[], T]) -> T:
        """The stored value; when there is none, `make()` is stored and returned (for mutable values)."""
        if self.key not in st.session_state:
            st.session_state[self.key] = make()
        return cast(T, st.session_state[self.key])

    def __repr__(self) -> str:
        return f"Slot({self.key!r})"


# --- the workspace and the knobs (ui.session)
WORKSPACE: Slot[str | None] = Slot("workspace", None, "This browser's workspace id (also `?ws=` in the URL).")
KNOBS: Slot[dict[str, Any] | None] = Slot(
    "knobs", None, "Every knob's remembered value by widget key: outlives pages that do not draw the widgets."
)
SAVED_KNOBS: Slot[dict[str, Any] | None] = Slot("saved_knobs", None, "The knobs as last saved in the store's workspace row.")
SCENARIO: Slot[str | None] = Slot("scenario", None, "Widget: the teaching preset picked in the sidebar.")
SHARE_APPLIED: Slot[bool] = Slot("share_link_applied", False, "A shared link's values were applied in this session.")

# --- the Train page
SHOWN_RUN: Slot[str | None] = Slot("shown_run", None, "The run the Train page shows (a new run, the picker, Open in Train).")
RUN_PICKER: Slot[str | None] = Slot("run_picker", None, "Widget: the 'Run shown' box; its callback sets SHOWN_RUN.")

# --- the data picker (ui.data_picker)
LAST_GOOD_DATA: Slot[DataChoice | None] = Slot("last_good_data", None, "The last dataset that loaded: kept when a file fails.")
CSV_READ: Slot[tuple[str, Any] | None] = Slot(
    "csv_read", None, "(upload id, (table, column infos) or the error text): an upload is read and profiled once."
)
CSV_CHOICES: Slot[dict[str, Any] | None] = Slot(
    "csv_choices", None, "For the file now loaded: {file, target, tasks: {target: task}, exclude: [columns]}."
)
CSV_TARGET: Slot[str | None] = Slot("csv_target", None, "Widget: the target column box.")
CSV_TASK: Slot[str | None] = Slot("csv_task", None, "Widget: the task radio (classification or regression).")
CSV_EXCLUDE: Slot[list[str]] = Slot("csv_exclude", [], "Widget: the columns left out of the features.")

# --- the Compare page
CONFIRM_DELETE: Slot[bool] = Slot("compare_confirm_delete", False, "Widget: the tick that confirms deleting the selected runs.")

# --- the Learn page
LEARN_PICKER: Slot[str | None] = Slot("learn_picker", None, "Widget: the Learn page's 'Run shown' box (follows SHOWN_RUN).")
LEARN_LAYER: Slot[int] = Slot("learn_layer", 0, "Widget: the layer the Learn page shows.")

# --- the Diagnose-a-log page
LOG_SOURCE: Slot[str | None] = Slot("log_source", None, "What the Diagnose page shows: 'upload', 'example' or 'paste'.")


def widget_value(key: str, default: Any = None) -> Any:
    """A knob widget's value (`hp_<field>`, `samples`, `noise`, `dataset_name`)."""
    return st.session_state.get(key, default)


def has_widget_value(key: str) -> bool:
    return key in st.session_state


def set_widget_value(key: str, value: Any) -> None:
    """Tell a knob widget its value before it is drawn (or from a callback)."""
    st.session_state[key] = value
