"""Figures kept per reader and extract version, drawn as they were; page sections that rerun alone."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import polars as pl
import pytest
from test_access import USERS, hosted_app

from benchmarks.page_cpu import fragment_rerun
from pages import _frame
from pages._charts import TEMPLATE, chart
from queries.access import Scope

MANAGER = Scope("team_manager", "manager@tiny.gov.uk", team_id="T1", worker_id="W2")
WORKER = Scope("social_worker", "cara@tiny.gov.uk", team_id="T2", worker_id="W3")


@pytest.fixture
def reader(monkeypatch):
    """Who is asking and which extract version is loaded, as the page frame would find them."""
    now = {"scope": MANAGER, "signature": "extract-v1"}
    monkeypatch.setattr(_frame, "current_scope", lambda: now["scope"])
    monkeypatch.setattr(_frame, "_current", lambda: (_frame.Loaded(object(), None, None), now["signature"]))
    _frame._kept_chart.clear()
    yield now
    _frame._kept_chart.clear()


def test_a_figure_is_made_once_per_reader_and_extract_version(reader):
    made = []

    def bars() -> go.Figure:  # what each reader's answer would hold: here, how many figures were made so far
        made.append(reader["scope"].user)
        return go.Figure(go.Bar(x=["open"], y=[len(made)], name="Cases"))

    about = ("team_caseload", {"team_id": "T1"})
    first = _frame.cached_chart(bars, None, about)
    assert _frame.cached_chart(bars, None, about) is first and made == [MANAGER.user]  # kept, not made again
    assert first.spec["data"][0]["y"] == [1]

    reader["scope"] = WORKER  # another reader never gets the manager's figure
    theirs = _frame.cached_chart(bars, None, about)
    assert theirs is not first and made == [MANAGER.user, WORKER.user]
    assert theirs.spec["data"][0]["y"] == [2] and first.spec["data"][0]["y"] == [1]

    reader["scope"], reader["signature"] = MANAGER, "extract-v2"  # a refreshed extract: made again
    refreshed = _frame.cached_chart(bars, None, about)
    assert refreshed is not first and refreshed.spec["data"][0]["y"] == [3] and len(made) == 3

    reader["signature"] = "extract-v1"  # other parameters: another figure
    assert _frame.cached_chart(bars, None, ("team_caseload", {"team_id": "T2"})).spec["data"][0]["y"] == [4]


def test_the_kept_figures_are_bounded():
    assert _frame._kept_chart._info.max_entries == 1024  # noqa: SLF001 - Streamlit keeps the settings here
    assert _frame._kept_chart._info.ttl.total_seconds() == 12 * 3600  # noqa: SLF001


def test_a_chart_draws_what_the_figure_with_the_childstat_template_would():
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, None, 6], name="Visits"))
    figure.update_layout(title="Visits in timescale")
    drawn = chart(go.Figure(figure), alt=None)
    plain = go.Figure(figure).update_layout(template=TEMPLATE, height=380).to_dict()
    assert drawn.spec == plain  # the same JSON Plotly would have had, the merged template included
    assert drawn.spec["layout"]["template"]["layout"]["colorway"][0] == "#0072B2"
    assert drawn.words.startswith("Visits in timescale. Visits: 2 values, highest 6")


def page_views(path) -> list[dict]:
    events = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in events if e["event"] == "page_view"]


def test_a_section_reruns_alone_without_a_second_page_view(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk")
    at.switch_page("pages/caseload.py").run()
    at.radio(key="caseload_view").set_value("My team").run()
    log = tmp_path / "audit.jsonl"
    views = len(page_views(log))
    with fragment_rerun(at, "caseload_drill_measure") as alone:
        at.selectbox(key="measure").set_value("assessment_45wd").run()
    assert alone and not at.exception
    assert len(page_views(log)) == views  # the section's rerun is not another page view
    queries = [json.loads(line) for line in log.read_text().splitlines()][-3:]
    asked = [e for e in queries if e["event"] == "query" and e["query"] == "compliance_cases"]
    assert asked and asked[-1]["filters"]["measure"] == "assessment_45wd"  # still recorded, as this reader
    assert asked[-1]["scope"] == {"role": "team_manager", "team_id": "T1", "worker_id": "W2"}
    # Only the section was drawn again (AppTest keeps just this run's output): its table, not the page's title
    assert at.dataframe and not at.title and not at.radio


def test_a_section_rerunning_alone_checks_who_is_asking(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk")
    at.switch_page("pages/caseload.py").run()
    at.radio(key="caseload_view").set_value("My team").run()
    others = {email: role for email, role in USERS.items() if email != "manager@tiny.gov.uk"}
    at.secrets["childstat"] = at.secrets["childstat"] | {"users": others}  # the manager is taken out of the role map
    with fragment_rerun(at, "caseload_drill_measure") as alone:
        at.selectbox(key="measure").set_value("assessment_45wd").run()
    assert alone and not at.exception
    assert any("no ChildStat role" in w.value for w in at.warning)  # the whole app reran: its router refused
    assert not at.dataframe and not at.get("plotly_chart")
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert not [e for e in events if e["event"] == "query" and e.get("filters", {}).get("measure") == "assessment_45wd"]


def test_a_figure_is_kept_by_the_content_of_the_answers_it_draws(reader):
    made = []

    def draw(frame: pl.DataFrame):  # as a page does: one builder, given the answer it draws
        def build() -> go.Figure:
            made.append(frame.height)
            return go.Figure(go.Bar(x=frame["team"].to_list(), y=frame["cases"].to_list()))

        return _frame.cached_chart(build, None, (frame,))

    drawn = draw(pl.DataFrame({"team": ["T1", "T2"], "cases": [4, 7]}))
    assert draw(pl.DataFrame({"team": ["T1", "T2"], "cases": [4, 7]})) is drawn and made == [2]  # the same answer
    changed = draw(pl.DataFrame({"team": ["T1", "T2"], "cases": [4, 8]}))  # one count differs
    assert changed is not drawn and changed.spec["data"][0]["y"] == [4, 8] and made == [2, 2]
