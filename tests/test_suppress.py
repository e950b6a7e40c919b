"""Small-number suppression: primary (1 to 5), secondary, and rates derived from hidden counts."""

import polars as pl

from queries.suppress import hidden, suppress_frame


def test_primary_threshold_edges():
    assert [hidden(n) for n in (0, 1, 5, 6, None)] == [False, True, True, False, False]


def test_secondary_hides_the_next_smallest_in_the_same_column():
    frame = pl.DataFrame({"team": ["A", "B", "C"], "n": [3, 40, 12]})
    out = suppress_frame(frame, ["n"])
    # 3 is hidden; with the total known, 12 must go too or 3 could be worked back.
    assert out["n"].to_list() == [None, 40, None]


def test_secondary_across_rows_and_columns():
    frame = pl.DataFrame({"cohort": [2, 30, 25], "rest": [50, 60, 70]})
    out = suppress_frame(frame, ["cohort", "rest"])
    assert out["cohort"].to_list() == [None, 30, None]  # column: 2 and then 25
    assert out["rest"].to_list() == [None, 60, None]  # rows: 50 (row 0) and 70 (row 2)


def test_zero_is_not_suppressed_and_rates_follow_counts():
    frame = pl.DataFrame({"n": [0, 4, 100, 200], "d": [10, 10, 300, 300], "pct": [0.0, 40.0, 33.3, 66.7]})
    out = suppress_frame(frame, ["n"], derived={"pct": ["n"]}, secondary=False)
    assert out["n"].to_list() == [0, None, 100, 200]
    assert out["pct"].to_list() == [0.0, None, 33.3, 66.7]


def test_switched_off_by_settings(tmp_path, monkeypatch):
    from queries import settings

    file = tmp_path / "settings.toml"
    file.write_text("[suppression]\nenabled = false\n")
    monkeypatch.setenv("CHILDSTAT_SETTINGS", str(file))
    settings.load_settings.cache_clear()
    try:
        assert suppress_frame(pl.DataFrame({"n": [3, 40]}), ["n"])["n"].to_list() == [3, 40]
    finally:
        monkeypatch.delenv("CHILDSTAT_SETTINGS")
        settings.load_settings.cache_clear()
