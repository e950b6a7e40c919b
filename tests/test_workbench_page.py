"""The Case-file audits page: an analyst draws and records; a social worker sees and records only their own children."""

from __future__ import annotations

import polars as pl
import pytest

from helpers import open_app_page
from queries.access import Scope
from schemas.extract import SAMPLE_DATA
from workbench.audits import AuditError, answer_history, audit_sample, create_audit, record_answers
from workbench.questions import parse_question
from workbench.workspace import open_workspace

PD = parse_question("pd|Parent has a personality disorder|yes_no")


@pytest.fixture
def workspace_file(tmp_path, monkeypatch):
    path = tmp_path / "ws.sqlite"
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(path))
    return path


@pytest.fixture
def t07_audit(workspace_file, sample_engine):
    ws = open_workspace(workspace_file)
    create_audit(ws, sample_engine, "pd-t07", {"team_id": "T07"}, 30, 1, [PD])
    yield ws
    ws.dispose()


def open_audit_page(monkeypatch, scope=None):
    at = open_app_page("case_file_audits", SAMPLE_DATA, monkeypatch, scope=scope)
    assert not at.exception, [e.value for e in at.exception]
    return at


class Place:
    """Stands in for a Streamlit container: what the page said."""

    def __init__(self):
        self.said = []

    def success(self, text, **_):
        self.said.append(("success", text))

    def warning(self, text, **_):
        self.said.append(("warning", text))


def test_an_analyst_sees_the_sample_in_reading_order_and_records_an_answer(t07_audit, monkeypatch):
    at = open_audit_page(monkeypatch, Scope("analyst", "analyst@council.gov.uk"))
    sample = audit_sample(t07_audit, "pd-t07")
    assert at.selectbox(key="audit_child").options[:2] == [f"1. {sample['child_id'][0]} (cohort, all)",
                                                          f"2. {sample['child_id'][1]} (cohort, all)"]  # fmt: skip
    first = sample["child_id"][0]
    assert at.radio(key=f"answer_pd_{first}").options == ["yes", "no", "not recorded"]
    assert "New audit" in [t.label for t in at.tabs]
    # What the "Record these answers" button does with the answers given (AppTest does not deliver a
    # button's click through this app's navigation, so the handler is called as the button calls it):
    from pages import case_file_audits as page

    events = []
    monkeypatch.setattr(page, "audit", lambda event, **fields: events.append((event, fields)))
    place = Place()
    page.record_from_page(place, t07_audit, "pd-t07", first, {"pd": "not recorded"}, Scope("analyst", "a@c"), None)
    assert place.said == [("success", "Recorded 1 answer.")]
    assert events == [("audit_answer", {"audit": "pd-t07", "child_id": first, "questions": ["pd"]})]
    history = answer_history(t07_audit, "pd-t07")
    assert history.select("child_id", "value", "recorded_by").rows() == [(first, "not recorded", "a@c")]
    page.record_from_page(place, t07_audit, "pd-t07", first, {"pd": None}, Scope("analyst", "a@c"), None)
    assert place.said[-1] == ("warning", "give at least one answer as CODE=ANSWER")


def test_a_social_worker_sees_and_records_only_their_own_children(t07_audit, sample_engine, monkeypatch):
    sample = audit_sample(t07_audit, "pd-t07")
    workers = sample_engine.con.sql(
        "SELECT worker_id, list(DISTINCT child_id) FROM referrals WHERE team_id = 'T07' AND NOT nfa "
        "AND closure_date IS NULL GROUP BY worker_id"
    ).fetchall()
    in_sample = set(sample["child_id"])
    worker, theirs = max(((w, set(c) & in_sample) for w, c in workers), key=lambda wc: len(wc[1]))
    assert theirs and theirs != in_sample
    scope = Scope("social_worker", "sw@council.gov.uk", worker_id=worker, team_id="T07")
    at = open_audit_page(monkeypatch, scope)
    assert set(at.selectbox(key="audit_child").options) == {
        label for label in at.selectbox(key="audit_child").options if label.split(". ")[1].split(" ")[0] in theirs
    }
    assert len(at.selectbox(key="audit_child").options) == len(theirs)
    assert "New audit" not in [t.label for t in at.tabs]
    # The rule the page applies holds below it too: another child is refused.
    other = next(iter(in_sample - theirs))
    from pages.case_file_audits import may_record

    with pytest.raises(AuditError, match="whose cases you may see"):
        record_answers(
            t07_audit, "pd-t07", other, {"pd": "yes"}, by=scope.user, may_record=may_record(sample_engine, scope)
        )


def test_estimates_on_the_page_are_protected_for_a_team_manager(t07_audit, monkeypatch):
    for child in audit_sample(t07_audit, "pd-t07")["child_id"].to_list()[:8]:
        record_answers(t07_audit, "pd-t07", child, {"pd": "no"}, by="a@x")
    at = open_audit_page(monkeypatch, Scope("team_manager", "tm@council.gov.uk", team_id="T07"))
    table = next(frame.value for frame in at.dataframe if "estimated_pct" in frame.value.columns)
    counts = dict(zip(table["answer"], table["count"], strict=True))
    assert counts["no"] == 8 and pl.Series([counts["yes"], counts["not recorded"]]).to_list() == [0, 0]


def test_a_broken_workspace_is_said_not_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", "mysql://db.example/audits")
    at = open_audit_page(monkeypatch, Scope("analyst", "a@x"))
    assert any("No workspace" in e.value and "mysql" in e.value for e in at.error)


def test_an_analyst_makes_an_answer_a_factor_from_the_estimates_tab(t07_audit, monkeypatch):
    for child in audit_sample(t07_audit, "pd-t07")["child_id"].to_list()[:3]:
        record_answers(t07_audit, "pd-t07", child, {"pd": "yes"}, by="a@x")
    at = open_audit_page(monkeypatch, Scope("analyst", "analyst@council.gov.uk"))
    assert at.selectbox(key="factor_answer").options == ["yes", "no"]  # "not recorded" is counted apart
    assert at.text_input(key="factor_label").value == "Parent has a personality disorder"
    # What "Make it a factor" does (called as the button calls it; see the first test):
    from pages import case_file_audits as page
    from workbench.audit_factors import list_factors

    events = []
    monkeypatch.setattr(page, "audit", lambda event, **fields: events.append((event, fields)))
    place = Place()
    page.factor_from_page(
        place, t07_audit, "pd-t07", "pd", "yes", " PD ", "Parent: personality disorder", Scope("analyst", "a@c")
    )
    assert place.said == [
        ("success", "Factor PD made: Patterns shows it, from this audit's sample, beside recorded factors.")
    ]
    assert events == [("audit_factor", {"audit": "pd-t07", "factor": "PD"})]
    assert list_factors(t07_audit)[["factor_code", "answer", "source"]].rows() == [("PD", "yes", "case_file_audit")]
    page.factor_from_page(place, t07_audit, "pd-t07", "pd", "yes", "PD", "Again", Scope("analyst", "a@c"))
    assert place.said[-1] == ("warning", "there is already an audit factor PD")


def test_a_team_manager_is_not_offered_to_make_factors(t07_audit, monkeypatch):
    record_answers(t07_audit, "pd-t07", audit_sample(t07_audit, "pd-t07")["child_id"][0], {"pd": "no"}, by="a@x")
    at = open_audit_page(monkeypatch, Scope("team_manager", "tm@council.gov.uk", team_id="T07"))
    assert not [s for s in at.selectbox if s.key == "factor_answer"]
