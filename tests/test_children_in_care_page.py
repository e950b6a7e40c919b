"""The Children in care page, rendered by AppTest: on the tiny extract, an SSDA903-only extract and a
format-1.0 extract (no reviews, missing or care leaver tables), as each of the roles it is for."""

from __future__ import annotations

from test_children_in_care import write_care_only

from helpers import open_app_page, table_with
from queries.access import Scope
from tiny_extract import write_extract

HEAD = Scope("head_of_service", "head@tiny.gov.uk")
T3_MANAGER = Scope("team_manager", "manager3@tiny.gov.uk", team_id="T3")


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def texts(at) -> str:
    parts = [c.value for c in at.caption] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(parts + [m.value for m in at.markdown])


def test_the_page_on_the_tiny_extract(tiny_dir, monkeypatch):
    at = open_app_page("children_in_care", tiny_dir, monkeypatch)
    assert not at.exception and not at.error
    shown = metrics(at)
    assert shown["In care on 31 March 2026"] == "1"
    assert shown["Unaccompanied asylum-seeking children"] == "1 (100%)"
    assert shown["Reviews held on time, last 12 months"] == "67%"  # 2 of 3
    assert shown["Went missing, last 12 months"] == "1 (50%)"  # C5 of C5 and C4
    reviews = table_with(at, "On time % (95% CI)")
    assert reviews["On time % (95% CI)"].tolist() == ["100% (21%–100%)", "50% (9%–91%)", "–", "67% (21%–94%)"]
    missing = table_with(at, "England 2025").set_index("Measure")
    assert missing.loc["Went missing (95% CI)"].tolist() == ["50% (9%–91%)", "11%"]
    assert missing.loc["Missing incidents per child who went missing"].tolist() == ["1.0", "6.8"]
    assert "England: 8%" in texts(at)  # UASC beside England's
    assert "DfE publishes no national figure for review timeliness" in texts(at)


def test_the_page_on_an_ssda903_only_extract(tmp_path, monkeypatch):
    at = open_app_page("children_in_care", write_care_only(tmp_path / "care_only"), monkeypatch)
    assert not at.exception and not at.error and not at.warning
    assert "the figures are the whole council's" in texts(at)
    shown = metrics(at)
    assert shown["In care on 31 March 2026"] == "5"
    assert shown["Reviews held on time, last 12 months"] == "44%"  # 4 of 9
    assert shown["Children with an overdue review on 31 March 2026"] == "2"
    overdue = table_with(at, "Days overdue")
    assert overdue[["Child", "Days overdue", "Last review"]].values.tolist() == [
        ["A1", 6, "25 Sep 2025"],
        ["A3", 1, "none yet"],
    ]
    leavers = table_with(at, "Care leavers").set_index("Age")
    assert leavers.loc["Aged 19 to 21", "In education, employment or training % (95% CI)"] == "50% (9%–91%)"
    assert leavers.loc["Aged 17 or 18", "Care leavers"] == "2"
    placements = table_with(at, "Weekly spend")
    assert placements["Weekly spend"].tolist()[-1] == "£4,800"


def test_a_team_manager_on_an_ssda903_only_extract_is_told_why_it_is_empty(tmp_path, monkeypatch):
    at = open_app_page("children_in_care", write_care_only(tmp_path / "care_only"), monkeypatch, scope=T3_MANAGER)
    assert not at.exception and not at.error
    assert any("no child is linked to your team" in w.value for w in at.warning)
    assert metrics(at)["In care on 31 March 2026"] == "0"
    assert not any("Days overdue" in frame.value.columns for frame in at.dataframe)


def test_a_head_of_service_sees_protected_figures_and_no_child(tiny_dir, monkeypatch):
    at = open_app_page("children_in_care", tiny_dir, monkeypatch, scope=HEAD)
    assert not at.exception and not at.error
    assert metrics(at)["In care on 31 March 2026"] == "c"
    assert "The list of children with an overdue review is for team managers and analysts." in texts(at)
    for frame in at.dataframe:
        assert not {"C4", "C5"} & set(frame.value.astype(str).values.ravel())


def test_sections_name_the_missing_table_and_the_rest_still_shows(tmp_path, monkeypatch):
    """A format-1.0 extract: looked_after but no uasc, cla_reviews, missing_episodes or care_leavers."""
    folder = write_extract(tmp_path / "format_1_0", drop=("uasc", "cla_reviews", "missing_episodes", "care_leavers"))
    at = open_app_page("children_in_care", folder, monkeypatch)
    assert not at.exception and not at.error
    warnings = "\n".join(w.value for w in at.warning)
    for table in ("uasc", "cla_reviews", "missing_episodes", "care_leavers"):
        assert f"the {table} table is not in this extract" in warnings
    assert metrics(at)["In care on 31 March 2026"] == "1"  # C5, from looked_after
    assert table_with(at, "Legal status") is not None and table_with(at, "Weekly spend") is not None
