"""The Hypotheses page (analysts only): the register, the latest results, the history and the printable note."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app import page_meta, page_roles
from helpers import open_app_page
from queries.access import Scope
from tiny_extract import DEFAULT_MANIFEST, write_extract
from workbench.hypotheses import (
    HypothesisError,
    create_hypothesis,
    hypothesis_details,
    latest_results,
    result_history,
    run_hypotheses,
    set_status,
)
from workbench.hypothesis_note import hypothesis_note
from workbench.workspace import open_workspace

ROOT = Path(__file__).resolve().parent.parent
DISCOVERY = (dt.date(2025, 4, 1), dt.date(2025, 9, 30))
CONFIRMATION = (dt.date(2025, 10, 1), dt.date(2026, 3, 31))


@pytest.fixture
def register(tmp_path, monkeypatch):
    """A workspace with one hypothesis run on the tiny extract as at 2027-03-31 (tests/test_workbench_hypotheses.py)."""
    from queries.engine import Engine
    from schemas.extract import open_extract

    path = tmp_path / "ws.sqlite"
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(path))
    data = write_extract(tmp_path / "extract", manifest=DEFAULT_MANIFEST | {"as_of": "2027-03-31"})
    ws = open_workspace(path)
    create_hypothesis(ws, "t1 rereferral", "T1's children are re-referred more than T2's", {"team_id": "T1"},
                      {"team_id": "T2"}, "rereferral", DISCOVERY, CONFIRMATION, created_by="analyst@council.gov.uk")  # fmt: skip
    engine = Engine(open_extract(data))
    run_hypotheses(ws, engine)
    engine.close()
    set_status(ws, "t1 rereferral", "open", "one child in T1: wait for more")
    yield ws, data
    ws.dispose()


def test_only_analysts_and_administrators_see_the_page():
    assert page_roles(page_meta(ROOT / "pages/hypotheses.py")) == ["analyst", "admin"]


def test_an_analyst_sees_the_register_the_latest_results_and_the_history(register, monkeypatch):
    _, data = register
    at = open_app_page("hypotheses", data, monkeypatch, scope=Scope("analyst", "analyst@council.gov.uk"))
    assert not at.exception, [e.value for e in at.exception]
    table = next(f.value for f in at.dataframe if "discovery_effect" in f.value.columns)
    assert table[["name", "status", "discovery_effect", "confirmation_effect", "results"]].values.tolist() == [
        ["t1 rereferral", "open", 1.0, 0.0, 2]
    ]
    said = [m.value for m in at.markdown]
    assert "**Discovery** (as at 31 March 2027): 1 of 1 child against 0 of 2: a difference of +100.0 " \
        "percentage points (95% CI -3.1 to +100.0), p = 0.33." in said  # fmt: skip
    assert "> T1's children are re-referred more than T2's" in said


def test_the_note_says_what_was_written_and_what_was_found(register):
    ws, _ = register
    history = result_history(ws, "t1 rereferral")
    note = hypothesis_note(hypothesis_details(ws, "t1 rereferral"), latest_results(history), history)
    lines = note.splitlines()
    assert lines[:11] == [
        "# Hypothesis: t1 rereferral",
        "",
        "> T1's children are re-referred more than T2's",
        "",
        "- **Cohort:** team_id = T1",
        "- **Compared with:** team_id = T2",
        "- **Outcome:** re-referral within 12 months",
        "- **Discovery period:** 2025-04-01 to 2025-09-30",
        "- **Confirmation period:** 2025-10-01 to 2026-03-31",
        "- **Status:** open. one child in T1: wait for more",
        f"- **Written by** analyst@council.gov.uk on {dt.datetime.now(dt.UTC):%d %B %Y}, before any result.",
    ]
    assert "- **Confirmation** (extract as at 31 March 2027): 0 of 1 child against 0 of 1: a difference of +0.0 " \
        "percentage points (95% CI -79.3 to +79.3), p = 1.00." in lines  # fmt: skip
    assert sum(line.startswith("- ") and ", discovery, extract as at 31 March 2027" in line for line in lines) == 1


def test_the_note_of_a_hypothesis_not_run_yet_says_so(tmp_path):
    ws = open_workspace(tmp_path / "ws.sqlite")
    create_hypothesis(ws, "x", "words", {"sex": "F"}, {"sex": "M"}, "factor", DISCOVERY, CONFIRMATION, factor_code="3B")
    history = result_history(ws, "x")
    note = hypothesis_note(hypothesis_details(ws, "x"), latest_results(history), history)
    assert "## Latest results\n\nNot run yet.\n" in note and "## History\n\nNo results yet.\n" in note
    assert latest_results(history).schema == history.schema
    ws.dispose()


class Place:
    """Stands in for a Streamlit container: what the page said."""

    def __init__(self):
        self.said = []

    def __getattr__(self, kind):
        return lambda text, **_: self.said.append((kind, text))


def test_the_run_button_adds_results_and_keeps_the_earlier_ones(register, monkeypatch, tmp_path):
    # What the button does (AppTest does not deliver a click on a page reached by switch_page).
    from pages.hypotheses import run_on_this_extract
    from queries.engine import Engine
    from schemas.extract import open_extract

    ws, _ = register
    monkeypatch.setattr("pages.hypotheses.audit", lambda event, **fields: None)
    newer = Engine(open_extract(write_extract(tmp_path / "newer", manifest=DEFAULT_MANIFEST | {"as_of": "2027-03-31"})))
    place = Place()
    run_on_this_extract(place, ws, newer)
    assert place.said == [("success", "Added 2 results; earlier results are kept.")]
    run_on_this_extract(place, ws, newer)
    assert place.said[1:] == [
        ("success", "Added 0 results; earlier results are kept."),
        ("caption", "t1 rereferral, discovery: not run: already run on this extract"),
        ("caption", "t1 rereferral, confirmation: not run: already run on this extract"),
    ]
    newer.close()
    assert result_history(ws, "t1 rereferral").height == 4


FORM = {
    "name": "  closing  ", "statement": "T1 closes cases faster than T2", "cohort": {"team_id": "T1"},
    "comparison": {"team_id": "T2"}, "outcome": "closed", "factor_code": "3B", "days": 200, "service_id": "SV1",
    "audit": "", "question": "", "answer": "", "discovery": DISCOVERY, "confirmation": CONFIRMATION,
}  # fmt: skip


def test_the_form_writes_a_hypothesis_with_only_its_outcomes_details(tmp_path):
    from pages.hypotheses import write_hypothesis

    ws = open_workspace(tmp_path / "ws.sqlite")
    write_hypothesis(ws, FORM, "analyst@council.gov.uk")  # the factor code and service are for other outcomes
    details = hypothesis_details(ws, "closing")
    assert (details["outcome"], details["cohort"], details["created_by"]) == (
        "case closed within 200 days", {"team_id": "T1"}, "analyst@council.gov.uk"
    )  # fmt: skip
    assert details["discovery"] == "2025-04-01..2025-09-30"
    write_hypothesis(ws, FORM | {"name": "pd", "outcome": "factor"}, "analyst@council.gov.uk")
    assert hypothesis_details(ws, "pd")["outcome"] == "factor 3B recorded"
    ws.dispose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"comparison": {}}, "choose at least one filter for the cohort and one for the comparison"),
        ({"comparison": {"team_id": "T1"}}, "the two cohorts are the same"),
        ({"outcome": "audit"}, "an audit outcome needs the audit, its question and the answer"),
        ({"name": "closing"}, "there is already a hypothesis named 'closing'"),
        ({"name": "x", "confirmation": DISCOVERY}, "the confirmation period starts after the discovery period ends"),
    ],
)
def test_the_form_says_what_is_wrong(tmp_path, change, message):
    from pages.hypotheses import write_hypothesis

    ws = open_workspace(tmp_path / "ws.sqlite")
    write_hypothesis(ws, FORM, "a@x")
    with pytest.raises(HypothesisError, match=message):
        write_hypothesis(ws, FORM | change, "a@x")
    ws.dispose()


def test_the_page_offers_the_form_to_write_a_hypothesis(tmp_path, monkeypatch):
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(tmp_path / "empty.sqlite"))
    at = open_app_page("hypotheses", write_extract(tmp_path / "x"), monkeypatch, scope=Scope("analyst", "a@x"))
    assert not at.exception, [e.value for e in at.exception]
    assert [s.label for s in at.selectbox][:1] == ["Team"] and "Outcome" in [s.label for s in at.selectbox]
    assert any("write one above" in i.value for i in at.info)
