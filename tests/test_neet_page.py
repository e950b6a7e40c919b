"""The NEET risk page on the sample and the tiny extract: what it says, what it hides, how fast it is warm."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import open_app_page, table_with
from queries.access import Scope
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_page():
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield open_app_page("neet", SAMPLE_DATA, monkeypatch)


def test_sample_page_shows_factors_accuracy_fairness_and_the_list(sample_page):
    at = sample_page
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "NEET risk"
    findings = at.success[0].value
    assert "attended less than 85% of school" in findings and "had ever been looked after" in findings
    assert "× the odds of becoming NEET" in findings
    metrics = {m.label: m.value for m in at.metric}
    assert {"Model AUC", "RONI AUC", "Model Brier score", "RONI Brier score"} <= set(metrics)
    text = "\n".join(m.value for m in at.markdown)
    assert "better than RONI" in text and "tested on 2025–2026" in text
    note = at.warning[0].value
    assert "not a decision" in note and "AUC of 0.66" in note
    assert any("Child-level operational data" in c.value for c in at.caption)
    risk_list = table_with(at, "Main risk factors (odds ratio)")
    assert risk_list["Risk %"].is_monotonic_decreasing and len(risk_list) > 100
    assert len(at.get("plotly_chart")) >= 2  # the forest plot and the calibration plot


def test_small_numbers_are_hidden_in_the_aggregate_tables(monkeypatch):
    # A team manager's view: the model's figures are about the whole council, so protected.
    manager = Scope("team_manager", "m@x.gov.uk", team_id="T02")
    sample_page = open_app_page("neet", SAMPLE_DATA, monkeypatch, scope=manager)
    assert not sample_page.exception, [e.value for e in sample_page.exception]
    factors = table_with(sample_page, "Odds ratio").set_index("Factor")
    # 13 permanently excluded young people, 4 of whom became NEET: the estimate rests on a hidden count.
    assert factors.loc["Permanently excluded", "Odds ratio"] == "c"
    assert factors.loc["Permanently excluded", "% NEET with it"] == "c"
    assert factors.loc["Ever looked after", "Odds ratio"] != "c"
    fairness = table_with(sample_page, "TPR: of those who became NEET, flagged")
    by_sex = fairness[fairness["By"] == "Sex"].set_index("Group")
    assert by_sex.loc["Unknown", "Young people"] == "c"
    assert by_sex.loc["Unknown", "FPR: of those who did not, flagged"] == "c"
    # A second group's size goes with it (so 'Unknown' cannot be worked back from the total), and with that
    # size every count and rate of that group (its positives and negatives add up to it).
    hidden_groups = [g for g in by_sex.index if by_sex.loc[g, "Young people"] == "c"]
    assert len(hidden_groups) >= 2
    for group in hidden_groups:
        assert by_sex.loc[group, "TPR: of those who became NEET, flagged"] == "c"
    black = fairness[fairness["Group"] == "Black"].iloc[0]
    assert black["TPR: of those who became NEET, flagged"] == "c"  # 5 of 7 became NEET and were flagged
    asian = fairness[fairness["Group"] == "Asian"].iloc[0]
    assert asian["TPR: of those who became NEET, flagged"] != "c"  # 6 of 12: safe to show


def test_fairness_for_roni_too(sample_page):
    sample_page.radio(key="neet_fairness_score").set_value("roni").run()
    assert not sample_page.exception
    table = table_with(sample_page, "TPR: of those who became NEET, flagged").set_index("Group")
    assert table.loc["All", "TPR: of those who became NEET, flagged"] == "56% (49–63)"  # RONI 4+: 98 of 175


def test_tiny_extract_says_there_are_too_few_and_still_lists_roni(tiny_dir, monkeypatch):
    at = open_app_page("neet", tiny_dir, monkeypatch)
    assert not at.exception and not at.error
    assert any("too few young people with a known outcome" in i.value.lower() for i in at.info)
    risk_list = table_with(at, "RONI points")
    assert risk_list["Child"].tolist() == ["C2"] and risk_list["RONI"].tolist() == [6]
    assert "only the RONI score is shown" in at.warning[0].value
