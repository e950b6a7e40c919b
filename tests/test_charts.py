"""pages/_charts.py: readable log axes, one style of interval, and a text alternative for every chart."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest

from helpers import open_app_page
from pages._charts import PALETTE, describe, interval_bars, log_ticks, series_style
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent


def test_log_ticks_double_and_include_one():
    assert log_ticks(0.6, 9.1) == ([0.5, 1.0, 2.0, 4.0, 8.0, 16.0], ["0.5", "1", "2", "4", "8", "16"])
    values, labels = log_ticks(0.2, 3.0)
    assert values == [0.125, 0.25, 0.5, 1.0, 2.0, 4.0] and labels[1] == "0.25"
    assert len(log_ticks(0.001, 5000)[0]) <= 10  # a wide range is thinned, not crowded


def test_interval_bars_are_asymmetric_spans_from_the_centre():
    bars = interval_bars([1.0, None], [4.0, 3.0], [2.0, 2.5])["error_x"]
    assert bars["array"] == [2.0, 0.5] and bars["arrayminus"] == [1.0, None]


def test_series_differ_by_mark_and_dash_as_well_as_colour():
    styles = [series_style(i) for i in range(6)]
    assert len({s["symbol"] for s in styles}) == 6 and len({s["dash"] for s in styles}) == 6
    assert styles[0]["color"] == PALETTE[0] == "#0072B2"  # Okabe–Ito blue


def test_the_text_alternative_says_what_the_chart_shows():
    figure = go.Figure(go.Bar(x=["Jan 2026", "Feb 2026", "Mar 2026"], y=[12, None, 30], name="Referrals"))
    figure.update_layout(title="Referrals each month")
    assert describe(figure) == (
        "Referrals each month. Referrals: 2 values, highest 30 (Mar 2026), lowest 12 (Jan 2026); 1 not shown."
    )
    forest = go.Figure(go.Scatter(x=[3.06, 0.8], y=["Suspensions", "Alternative provision"], name="School"))
    forest.update_xaxes(title_text="Odds ratio")
    assert describe(forest) == (
        "Odds ratio. School: 2 values, highest 3.06 (Suspensions), lowest 0.8 (Alternative provision)."
    )


@pytest.mark.parametrize("page", ["neet", "services", "team_outcomes"])
def test_every_chart_on_a_page_has_its_text_alternative(page, monkeypatch):
    at = open_app_page(page, SAMPLE_DATA, monkeypatch)
    assert not at.exception
    charts = at.get("plotly_chart")
    alternatives = [h.proto.body for h in at.get("html") if h.proto.body.startswith('<p class="childstat-sr-only">')]
    assert charts and len(alternatives) == len(charts)
    assert all("nothing shown" not in a for a in alternatives[:1])
    if page == "neet":  # the forest plot's log axis reads 0.25, 0.5, 1, 2, 4 …, not Plotly's "3 4 5 … 9 1 2"
        axis = json.loads(charts[0].proto.spec)["layout"]["xaxis"]
        assert "1" in axis["ticktext"] and "0.5" in axis["ticktext"] and "3" not in axis["ticktext"]
