"""The Team outcomes and Demand pages, driven as a head of service would on the sample."""

from pathlib import Path

from helpers import open_app_page
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent


def test_team_outcomes_by_model_and_by_team(monkeypatch):
    at = open_app_page("team_outcomes", SAMPLE_DATA, monkeypatch)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Group"]) == ["Data-led", "Traditional", "England"]
    assert any("Log-rank test" in c.value for c in at.caption)
    assert "Own closures back within a year % (95% CI)" in table.columns
    funnel = next(c.value for c in at.caption if "99.8% limits" in c.value)
    assert "overdispersion" in funnel or "chance would make them" in funnel  # says which limits it drew
    at.radio(key="outcomes_by").set_value("team").run()
    assert not at.exception
    assert "Child Protection Unit A" in list(at.dataframe[0].value["Group"])


def test_demand_for_the_council_and_a_team(monkeypatch):
    at = open_app_page("demand", SAMPLE_DATA, monkeypatch)
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"Forecast error (MASE)", "'Same month last year' error (MASE)"} <= labels
    assert any("80% range held" in c.value for c in at.caption)
    forecast = at.dataframe[0].value
    assert len(forecast) == 12 and list(forecast["Month"])[0] == "April 2026"
    at.selectbox(key="demand_team").set_value("T06").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 12
