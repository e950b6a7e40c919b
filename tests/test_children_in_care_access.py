"""Who sees what of the children-in-care questions: `engine.run(name, scope)` for each role.

On the tiny extract T3 holds C5's open referral (worker W5); C4 (left care) has only an NFA
referral, so no team. Aggregate questions: analysts exact; a team manager exact for their own team
(the team is forced, whatever they ask); a head of service every count of 1 to 5 hidden, with what
rests on it; social workers only the questions that declare them. The overdue list is child-level:
never for a head of service, and only a user's own children for the rest.
"""

from __future__ import annotations

import pytest
from test_children_in_care import TIMELINESS, by, counts, write_care_only

from helpers import rows_frame
from queries.access import Scope
from queries.engine import Engine, NotAllowed
from schemas.extract import open_extract

ANALYST = Scope("analyst", "analyst@tiny.gov.uk")
HEAD = Scope("head_of_service", "head@tiny.gov.uk")
T3_MANAGER = Scope("team_manager", "manager3@tiny.gov.uk", worker_id=None, team_id="T3")
T1_MANAGER = Scope("team_manager", "manager1@tiny.gov.uk", worker_id="W2", team_id="T1")
W5_WORKER = Scope("social_worker", "dev@tiny.gov.uk", worker_id="W5", team_id="T3")
W3_WORKER = Scope("social_worker", "cara@tiny.gov.uk", worker_id="W3", team_id="T2")
AGGREGATES = [
    "cla_legal_status",
    "cla_uasc",
    "cla_review_timeliness",
    "cla_review_participation",
    "missing_from_care",
    "care_leaver_outcomes",
    "placement_costs",
]


def test_every_children_in_care_question_declares_what_the_roles_need(tiny_engine):
    for name in AGGREGATES:
        query = tiny_engine.query(name)
        assert query.access == "aggregate" and set(query.roles) == {"analyst", "head_of_service", "team_manager"}
        assert query.count_groups and query.param("team_id") is not None, name
        assert "referrals" in query.optional_tables and "referrals" not in query.tables, name
    overdue = tiny_engine.query("cla_overdue_reviews")
    assert overdue.child_level and set(overdue.roles) == {"analyst", "team_manager", "social_worker"}
    assert set(tiny_engine.query("looked_after_children").roles) == {
        "analyst", "head_of_service", "team_manager", "social_worker"}  # fmt: skip


def test_an_analyst_sees_every_figure_exactly(tiny_engine):
    for name in [*AGGREGATES, "looked_after_children", "cla_overdue_reviews"]:
        assert tiny_engine.run(name, scope=ANALYST).equals(tiny_engine.run(name)), name


def test_a_head_of_service_gets_small_counts_hidden(tiny_engine):
    assert tiny_engine.run("looked_after_children", scope=HEAD)["looked_after_children"][0] is None  # 1 child
    reviews = by(tiny_engine.run("cla_review_timeliness", scope=HEAD), "review")
    assert counts(reviews["all"], *TIMELINESS) == (None, None, 0, None, 0)  # 3 due, 2 on time, 1 not held
    assert reviews["all"]["on_time_share"] is None and reviews["all"]["on_time_share_ci_low"] is None
    missing = tiny_engine.run("missing_from_care", scope=HEAD).row(0, named=True)
    assert missing["children_missing"] is None and missing["missing_share"] is None
    assert missing["median_episode_days"] is None  # rests on 1 missing and 1 away incident
    assert tiny_engine.run("cla_uasc", scope=HEAD)["uasc_share"][0] is None
    with pytest.raises(NotAllowed, match="not individual children"):
        tiny_engine.run("cla_overdue_reviews", scope=HEAD)


def test_a_team_manager_sees_their_own_team_exactly_whatever_they_ask(tiny_engine):
    assert tiny_engine.run("looked_after_children", scope=T3_MANAGER, team_id="T1")["looked_after_children"][0] == 1
    reviews = by(tiny_engine.run("cla_review_timeliness", scope=T3_MANAGER, team_id=None), "review")
    assert counts(reviews["all"], *TIMELINESS) == (2, 2, 0, 0, 0)  # C5's two reviews, exact though small
    assert reviews["all"]["on_time_share"] == 1.0
    assert tiny_engine.run("missing_from_care", scope=T3_MANAGER)["children_missing"][0] == 1
    assert tiny_engine.run("cla_uasc", scope=T3_MANAGER)["uasc_children"][0] == 1
    # T1 holds no child in care: its figures are 0, never the council's.
    assert tiny_engine.run("cla_uasc", scope=T1_MANAGER, team_id="T3")["looked_after_children"][0] == 0
    assert tiny_engine.run("missing_from_care", scope=T1_MANAGER)["looked_after_in_year"][0] == 0


def test_social_workers_get_only_the_questions_that_declare_them(tiny_engine):
    for name in AGGREGATES:
        with pytest.raises(NotAllowed):
            tiny_engine.run(name, scope=W5_WORKER)
    # Their team's count, forced to their team and protected (a social worker is exact only for a caseload).
    assert tiny_engine.run("looked_after_children", scope=W5_WORKER)["looked_after_children"][0] is None
    assert tiny_engine.run("cla_england_reference", scope=W5_WORKER).height == 5


def overdue_tiny(make_engine):
    """C5's second review (due 20 March 2026) not held: 11 days overdue on as_of."""

    def edit(tables):
        tables["cla_reviews"] = rows_frame(
            "cla_reviews",
            [{"child_id": "C5", "review_date": "2025-12-20"}, {"child_id": "C4", "review_date": "2025-03-25"}],
        )
        return tables

    return make_engine(edit)


def test_the_overdue_list_shows_each_user_only_their_own_children(make_engine):
    engine = overdue_tiny(make_engine)
    exact = engine.run("cla_overdue_reviews")
    assert exact.select("child_id", "days_overdue", "team_id", "worker_id").rows() == [("C5", 11, "T3", "W5")]
    assert engine.run("cla_overdue_reviews", scope=ANALYST).equals(exact)
    assert engine.run("cla_overdue_reviews", scope=T3_MANAGER)["child_id"].to_list() == ["C5"]
    assert engine.run("cla_overdue_reviews", scope=W5_WORKER)["child_id"].to_list() == ["C5"]
    assert engine.run("cla_overdue_reviews", scope=T1_MANAGER, team_id="T3").is_empty()
    assert engine.run("cla_overdue_reviews", scope=W3_WORKER).is_empty()
    reviews = by(engine.run("cla_review_timeliness"), "review")
    assert counts(reviews["second"], *TIMELINESS) == (2, 0, 0, 2, 1)  # C4 and C5 not held; C5 overdue now


def test_roles_on_an_ssda903_only_extract(tmp_path):
    """No referrals: a team manager's figures are empty (no child is linked to a team), the list too; a
    head of service gets the council's figures protected; an analyst the council's exactly."""
    engine = Engine(open_extract(write_care_only(tmp_path / "care_only")))
    try:
        assert engine.run("looked_after_children", scope=ANALYST)["looked_after_children"][0] == 5
        assert engine.run("looked_after_children", scope=HEAD)["looked_after_children"][0] is None
        assert engine.run("looked_after_children", scope=T3_MANAGER)["looked_after_children"][0] == 0
        reviews = by(engine.run("cla_review_timeliness", scope=HEAD), "review")
        assert counts(reviews["all"], "reviews_due", "on_time", "held_late", "not_held") == (9, None, None, None)
        assert reviews["all"]["on_time_share"] is None  # rests on 4 on time, hidden
        assert by(engine.run("cla_review_timeliness", scope=ANALYST), "review")["all"]["reviews_due"] == 9
        assert by(engine.run("cla_review_timeliness", scope=T3_MANAGER), "review")["all"]["reviews_due"] == 0
        assert len(engine.run("cla_overdue_reviews", scope=ANALYST)) == 2
        assert engine.run("cla_overdue_reviews", scope=T3_MANAGER).is_empty()
        assert engine.run("cla_overdue_reviews", scope=W5_WORKER).is_empty()
        assert engine.run("care_leaver_outcomes", scope=T3_MANAGER)["care_leavers"].sum() == 0
    finally:
        engine.close()
