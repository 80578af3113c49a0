"""core.wording: the shared phrasing of a cut list."""

from core.wording import first_and_more


def test_a_short_list_is_shown_whole_and_a_long_one_cut_with_a_count() -> None:
    assert first_and_more(["a", "b"], 2) == "a, b"
    assert first_and_more(["a", "b", "c", "d"], 2) == "a, b and 2 more"
    assert first_and_more(["x", "y", "z"], 1, "column(s)") == "x and 2 more column(s)"
    assert first_and_more([], 3) == ""
