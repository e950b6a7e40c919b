"""The Team outcomes and Demand pages, driven as a head of service would on the sample."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent


def open_page(name: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("CHILDSTAT_DATA", str(SAMPLE_DATA))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(f"pages/{name}.py")
    at.run()
    return at


def test_team_outcomes_by_model_and_by_team(monkeypatch):
    at = open_page("team_outcomes", monkeypatch)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Group"]) == ["Data-led", "Traditional", "England"]
    assert any("Log-rank test" in c.value for c in at.caption)
    at.radio(key="outcomes_by").set_value("team").run()
    assert not at.exception
    assert "Child Protection Unit A" in list(at.dataframe[0].value["Group"])


def test_demand_for_the_council_and_a_team(monkeypatch):
    at = open_page("demand", monkeypatch)
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"Forecast error (MASE)", "'Same month last year' error (MASE)"} <= labels
    forecast = at.dataframe[0].value
    assert len(forecast) == 12 and list(forecast["Month"])[0] == "April 2026"
    at.selectbox(key="demand_team").set_value("T06").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 12
