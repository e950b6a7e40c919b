"""The NEET risk page on the sample and the tiny extract: what it says, what it hides, how fast it is warm."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from helpers import open_app_page, table_with
from queries.access import Scope
from queries.engine import Engine
from schemas.extract import SAMPLE_DATA, open_extract

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def engine() -> Engine:
    return Engine(open_extract(SAMPLE_DATA), storage="memory", progress=lambda _: None)


def performance_values() -> dict:
    performance = engine().run("neet_model_performance")
    return dict(zip(performance["metric"], performance["value"], strict=True))


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
    assert "better than RONI" in text and "tested on later young people, complete in 2026" in text
    assert f"Against NEET alone ({round(100 * performance_values()['neet_only_rate'])}% of the test years" in text
    note = at.warning[0].value
    assert "not a decision" in note and f"AUC of {performance_values()['auc']:.2f}" in note
    assert any("Child-level operational data" in c.value for c in at.caption)
    risk_list = table_with(at, "Main risk factors (odds ratio)")
    assert risk_list["Risk %"].is_monotonic_decreasing and len(risk_list) > 100
    assert len(at.get("plotly_chart")) >= 3  # the forest plot, the calibration plot and the decision curve
    assert any("the highest line is the tool of most use" in c.value for c in at.caption)


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
    # A rate resting on 1-5 young people (who became NEET, or flagged among them) is hidden; large groups are not.
    raw = engine().run("neet_fairness").filter(score="model", group_type="ethnicity_group")
    shown = fairness[fairness["By"] == "Ethnicity group"].set_index("Group")
    small = [r["group"] for r in raw.iter_rows(named=True) if 1 <= r["positives"] <= 5 or 1 <= r["true_positives"] <= 5]
    assert small, "the sample has a small ethnicity group in the test years"
    for group in small:
        assert shown.loc[group, "TPR: of those who became NEET, flagged"] == "c", group
    # Calibration within the group rests on its NEET count too: hidden with it.
    for group in (r["group"] for r in raw.iter_rows(named=True) if 1 <= r["positives"] <= 5):
        assert shown.loc[group, "Became NEET or not known"] == "c", group
        assert shown.loc[group, "Observed − predicted"] == "c", group
    assert shown.loc["White", "Predicted risk (mean)"].endswith("%")
    assert shown.loc["White", "TPR: of those who became NEET, flagged"] != "c"


def test_fairness_for_roni_too(sample_page):
    sample_page.radio(key="neet_fairness_score").set_value("roni").run()
    assert not sample_page.exception
    table = table_with(sample_page, "TPR: of those who became NEET, flagged").set_index("Group")
    everyone = engine().run("neet_fairness").filter(group_type="all", score="roni").row(0, named=True)
    low, tpr, high = (int(100 * everyone[k] + 0.5) for k in ("tpr_low", "tpr", "tpr_high"))
    expected = f"{tpr}% ({low}–{high})"
    assert table.loc["All", "TPR: of those who became NEET, flagged"] == expected
    assert table.loc["All", "Became NEET or not known"] == f"{int(100 * everyone['observed'] + 0.5)}%"


def test_tiny_extract_says_there_are_too_few_and_still_lists_roni(tiny_dir, monkeypatch):
    at = open_app_page("neet", tiny_dir, monkeypatch)
    assert not at.exception and not at.error
    assert any("too few young people with a known outcome" in i.value.lower() for i in at.info)
    risk_list = table_with(at, "RONI points")
    # C4 is in Year 11. Year 10: EHC plan 2, FSM 2, EAL 1, alternative provision 1; looked after 2. C2: Year 9.
    assert risk_list["Child"].tolist() == ["C4"] and risk_list["RONI"].tolist() == [8]
    assert "only the RONI score is shown" in at.warning[0].value
