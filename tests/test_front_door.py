"""The front door questions, counted by hand on the tiny extract, for each role, and the sample's planted pattern.

Tiny extract (as_of 2026-03-31; the default period is 2025-04-01 to 2026-03-31, which holds all 11 contacts
and all 7 referrals): contacts K1-K7 became referrals R1-R7, each 0-3 days later; K8 no further action,
K9 advice, K10 early help, K11 no outcome recorded (K10 and K11 are in the last 30 days). Teams: T1 handled
K1, K4, K7, K8, K9, K11 and holds R1, R4, R7; T2 handled K2, K3, K6 and holds R2, R3, R6; K10 has no team.
Assessments started on R1, R2, R3, R5, R7; S47 enquiries on R2 and R3, an ICPC on R2 only; CP plans on R2
and on R1 (with no S47 enquiry, so it skips steps).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from queries.access import Scope
from queries.engine import BadParameter, NotAllowed, TableUnavailable
from queries.models.front_door import usual_range

ROOT = Path(__file__).resolve().parent.parent
T1_MANAGER = Scope("team_manager", "manager@tiny.gov.uk", worker_id="W2", team_id="T1")
W3_WORKER = Scope("social_worker", "cara@tiny.gov.uk", worker_id="W3", team_id="T2")
HEAD = Scope("head_of_service", "head@tiny.gov.uk")
FRONT_DOOR_QUESTIONS = ("front_door_flow", "contact_conversion_by_source", "front_door_timeliness")
FLOW_COUNTS = (
    "contacts", "contacts_converted", "contacts_nfa", "contacts_advice", "contacts_early_help",
    "contacts_other_outcome", "contacts_referral_not_found", "contacts_no_outcome", "contacts_short_follow_up",
    "referrals", "assessed", "section47", "icpc", "cp_plans", "skipped_steps",
)  # fmt: skip


def counts(row: dict) -> tuple:
    return tuple(row[c] for c in FLOW_COUNTS)


def test_flow_on_the_tiny_extract(tiny_engine):
    row = tiny_engine.run("front_door_flow").row(0, named=True)
    assert (row["from_date"], row["to_date"]) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    # 11 contacts: 7 became referrals; NFA, advice, early help, none recorded 1 each; K10, K11 in the last 30 days.
    # Referrals 7 -> assessed 5 (not R4, R6) -> S47 2 (R2, R3) -> ICPC 1 (R2) -> CP plan 1 (R2); R1 skipped steps.
    assert counts(row) == (11, 7, 1, 1, 1, 0, 0, 1, 2, 7, 5, 2, 1, 1, 1)
    assert row["contact_to_referral_rate"] == pytest.approx(7 / 11)
    assert row["referral_to_assessment_rate"] == pytest.approx(5 / 7)
    assert row["assessment_to_section47_rate"] == pytest.approx(2 / 5)
    assert row["section47_to_icpc_rate"] == pytest.approx(1 / 2)
    assert row["icpc_to_cp_plan_rate"] == 1.0
    assert row["nfa_rate"] == pytest.approx(1 / 11)
    # Wilson 95% for 7 of 11: centre (p + z²/2n)/(1 + z²/n), half-width z√(p(1-p)/n + z²/4n²)/(1 + z²/n)
    z, p, n = 1.959964, 7 / 11, 11
    centre, half = (
        (p + z * z / (2 * n)) / (1 + z * z / n),
        z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n),
    )
    assert row["contact_to_referral_ci_low"] == pytest.approx(centre - half, abs=1e-6)
    assert row["contact_to_referral_ci_high"] == pytest.approx(centre + half, abs=1e-6)
    assert row["icpc_to_cp_plan_ci_high"] == 1.0 and row["contact_referral_days"] == 30


def test_flow_for_a_shorter_follow_up_and_a_shorter_period(tiny_engine):
    # Within 1 day only K2, K3, K5, K7 became referrals; K1 (2 days), K4 (3) and K6 (2) recorded a referral that
    # is not found within the day.
    row = tiny_engine.run("front_door_flow", contact_referral_days=1).row(0, named=True)
    assert (row["contacts_converted"], row["contacts_referral_not_found"]) == (4, 3)
    # January to March 2026: contacts K6, K7, K9, K10, K11 (K6, K7 became R6, R7); referrals R6, R7 (R7 assessed).
    row = tiny_engine.run("front_door_flow", from_date="2026-01-01", to_date="2026-03-31").row(0, named=True)
    assert counts(row) == (5, 2, 0, 1, 1, 0, 0, 1, 2, 2, 1, 0, 0, 0, 0)


@pytest.mark.parametrize("days", [-1, 366])
def test_follow_up_days_out_of_range_is_a_clear_error(tiny_engine, days):
    with pytest.raises(BadParameter, match="contact_referral_days must be between 0 and 365"):
        tiny_engine.run("front_door_flow", contact_referral_days=days)


def test_flow_for_a_team_manager_is_their_teams_exactly(tiny_engine):
    # T1: contacts K1, K4, K7 (became R1, R4, R7), K8 NFA, K9 advice, K11 none recorded (in the last 30 days);
    # referrals R1, R4, R7: R1 and R7 assessed, R1's CP plan skipped steps. Exact: the manager's own team.
    for asked in ({}, {"team_id": "T2"}):
        row = tiny_engine.run("front_door_flow", scope=T1_MANAGER, **asked).row(0, named=True)
        assert counts(row) == (6, 3, 1, 1, 0, 0, 0, 1, 1, 3, 2, 0, 0, 0, 1)
        assert row["contact_to_referral_rate"] == pytest.approx(0.5)


def test_flow_periods_are_whole_months_for_a_team_manager(tiny_engine):
    row = tiny_engine.run("front_door_flow", scope=T1_MANAGER, from_date="2026-01-15").row(0, named=True)
    assert row["from_date"] == dt.date(2026, 1, 1)
    assert (row["contacts"], row["contacts_converted"]) == (3, 1)  # K7 (became R7), K9, K11


def test_flow_for_a_head_of_service_hides_small_counts_and_what_rests_on_them(tiny_engine):
    row = tiny_engine.run("front_door_flow", scope=HEAD).row(0, named=True)
    assert counts(row) == (11, 7, None, None, None, 0, 0, None, None, 7, None, None, None, None, None)
    assert row["contact_to_referral_rate"] == pytest.approx(7 / 11)
    for step in ("referral_to_assessment", "assessment_to_section47", "section47_to_icpc", "icpc_to_cp_plan", "nfa"):
        assert row[f"{step}_rate"] is None and row[f"{step}_ci_low"] is None, step


def test_flow_for_a_social_worker_is_their_teams_protected(tiny_engine):
    # Forced to T2 (K2, K3, K6 all became referrals; R2, R3, R6): figures about children beyond the worker's
    # own caseload, so every count from 1 to 5 is hidden, and every rate with it.
    row = tiny_engine.run("front_door_flow", scope=W3_WORKER, team_id="T1").row(0, named=True)
    assert counts(row) == (None, None, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, 0)
    assert all(row[f"{s}_rate"] is None for s in ("contact_to_referral", "referral_to_assessment", "icpc_to_cp_plan"))


def test_timeliness_on_the_tiny_extract(tiny_engine):
    rows = {r["measure"]: r for r in tiny_engine.run("front_door_timeliness").iter_rows(named=True)}
    # Contact to referral, working days: K1 Tue 1 Apr -> Thu 3 Apr 2; K6 Fri 30 Jan -> Sun 1 Feb 0; the rest 1.
    decided = rows["contact_to_referral"]
    assert (decided["total"], decided["within"], decided["median_working_days"]) == (7, 6, 1.0)
    assert decided["england_rate"] is None and "Not published" in decided["england_source"]
    # Referral to assessment start: R1 Thu 3 Apr -> Sat 5 Apr 1; R2, R3 2; R5, R7 1.
    started = rows["referral_to_assessment"]
    assert (started["total"], started["within"], started["rate"]) == (5, None, None)
    assert (started["q1_working_days"], started["median_working_days"], started["q3_working_days"]) == (1, 1, 2)
    # Authorised in the period: A1 30 working days after R1 (Easter and early May bank holidays), A2 36, A4 21.
    done = rows["assessment_45wd"]
    assert (done["total"], done["within"], done["median_working_days"], done["q1_working_days"]) == (3, 3, 30, 25.5)
    assert done["england_rate"] == 0.857 and done["england_year"] == "2025"
    # S1: strategy Wed 11 June 2025, ICPC Mon 30 June: 13 working days.
    icpc = rows["icpc_15wd"]
    assert (icpc["total"], icpc["within"], icpc["median_working_days"], icpc["england_rate"]) == (1, 1, 13, 0.814)
    rerefer = rows["rereferral"]
    assert (rerefer["total"], rerefer["within"], rerefer["england_rate"]) == (7, 1, 0.22)  # R7: C1's R1 in April
    assert rerefer["rate"] == pytest.approx(1 / 7)


def test_timeliness_for_a_team_manager_and_a_head_of_service(tiny_engine):
    mine = {r["measure"]: r for r in tiny_engine.run("front_door_timeliness", scope=T1_MANAGER).iter_rows(named=True)}
    # T1: K1 (2 working days), K4 (1), K7 (1); A1 only; no ICPC; R7 a re-referral of R1, R4, R7.
    assert (mine["contact_to_referral"]["total"], mine["contact_to_referral"]["within"]) == (3, 2)
    assert (mine["assessment_45wd"]["total"], mine["icpc_15wd"]["total"]) == (1, 0)
    assert (mine["rereferral"]["total"], mine["rereferral"]["within"]) == (3, 1)
    head = {r["measure"]: r for r in tiny_engine.run("front_door_timeliness", scope=HEAD).iter_rows(named=True)}
    assert (head["contact_to_referral"]["total"], head["contact_to_referral"]["within"]) == (7, 6)
    assert (head["rereferral"]["total"], head["rereferral"]["within"], head["rereferral"]["rate"]) == (7, None, None)
    assert head["assessment_45wd"]["median_working_days"] is None  # rests on 3 assessments: hidden with them
    assert head["assessment_45wd"]["england_rate"] == 0.857  # England's own figure is never hidden


def test_conversion_by_source_on_the_tiny_extract(tiny_engine):
    # March 2026 against March 2025 - February 2026: police K10 this month (not a referral), K6 (became R6) and
    # K9 before; schools K11 this month (none recorded), K5 (became R5) and K8 (NFA) before. 1 of 3 each.
    rows = {
        r["source"]: r
        for r in tiny_engine.run("contact_conversion_by_source", month="2026-03-10").iter_rows(named=True)
    }
    assert set(rows) == {"1A", "2A", "3A", "5A", "6"}
    police, school = rows["6"], rows["2A"]
    assert police["source_label"] == "Police" and police["month"] == dt.date(2026, 3, 1)
    for row in (police, school):
        assert (row["contacts"], row["converted"], row["rate"]) == (1, 0, 0.0)
        assert (row["baseline_contacts"], row["baseline_converted"], row["baseline_months"]) == (2, 1, 2)
        assert row["baseline_rate"] == 0.5
        assert row["judged"] is False and row["flag"] is None  # fewer than 20 contacts before: too few to judge
    assert (rows["1A"]["contacts"], rows["1A"]["baseline_contacts"], rows["1A"]["baseline_converted"]) == (0, 2, 2)
    assert rows["1A"]["rate"] is None and rows["1A"]["lower_limit"] is None


def test_the_month_judged_by_default_is_the_latest_with_full_follow_up(tiny_engine):
    # as_of 31 March: March's contacts have not all had 30 days, so February is judged (K9, police, advice).
    rows = {r["source"]: r for r in tiny_engine.run("contact_conversion_by_source").iter_rows(named=True)}
    assert rows["6"]["month"] == dt.date(2026, 2, 1) and (rows["6"]["contacts"], rows["6"]["converted"]) == (1, 0)
    assert (rows["6"]["baseline_contacts"], rows["6"]["baseline_converted"]) == (1, 1)  # K6 in January
    same_day = tiny_engine.run("contact_conversion_by_source", contact_referral_days=0)
    assert same_day["month"][0] == dt.date(2026, 3, 1)


def test_conversion_by_source_for_each_role(tiny_engine):
    mine = {r["source"]: r for r in tiny_engine.run("contact_conversion_by_source", scope=T1_MANAGER, month="2026-03-01", team_id="T2").iter_rows(named=True)}  # fmt: skip
    # T1 only: schools K11 this month, K8 before; police K9 before (K10 has no team, K6 is T2's).
    assert (mine["2A"]["contacts"], mine["2A"]["baseline_contacts"], mine["2A"]["baseline_converted"]) == (1, 1, 0)
    assert (mine["6"]["contacts"], mine["6"]["baseline_contacts"]) == (0, 1)
    head = tiny_engine.run("contact_conversion_by_source", scope=HEAD, month="2026-03-01")
    assert set(head["contacts"].to_list()) <= {None, 0} and set(head["baseline_contacts"].to_list()) == {None}
    assert set(head["rate"].to_list()) == {None} and set(head["baseline_rate"].to_list()) == {None}
    with pytest.raises(NotAllowed):
        tiny_engine.run("contact_conversion_by_source", scope=W3_WORKER)


def test_usual_range_is_a_laney_p_prime_chart():
    # p̄ = 80/200 = 0.4; σ at 100 contacts = √(0.24/100) = 0.04899; z = ±2.0412, moving range 4.0825,
    # σz = 4.0825 / 1.128 = 3.6192; limits 0.4 ± 2 × 3.6192 × 0.04899.
    p, low, high, spread = usual_range([(100, 50), (100, 30)], 100)
    assert (p, spread) == (pytest.approx(0.4), pytest.approx(3.61924, abs=1e-4))
    assert (low, high) == (pytest.approx(0.04539, abs=1e-4), pytest.approx(0.75461, abs=1e-4))
    # Months closer together than chance would put them: never narrower than binomial (σz = 1).
    p, low, high, spread = usual_range([(100, 40), (100, 41)], 50)
    assert spread == 1.0 and high - p == pytest.approx(2 * math.sqrt(0.405 * 0.595 / 50))
    assert usual_range([], 10) == (None, None, None, None)
    assert usual_range([(10, 3)], 0) == (0.3, None, None, None)


def test_without_contacts_the_flow_starts_at_referrals(make_engine):
    engine = make_engine(drop=("contacts",))
    row = engine.run("front_door_flow").row(0, named=True)
    assert (row["contacts"], row["contact_to_referral_rate"], row["referrals"], row["cp_plans"]) == (0, None, 7, 1)
    assert engine.unavailable_reason(engine.query("front_door_flow").optional_tables) == (
        "the contacts table is not in this extract"
    )
    with pytest.raises(TableUnavailable, match="the contacts table is not in this extract"):
        engine.run("contact_conversion_by_source")
    timely = {r["measure"]: r for r in engine.run("front_door_timeliness").iter_rows(named=True)}
    assert timely["contact_to_referral"]["total"] == 0 and timely["icpc_15wd"]["total"] == 1


def test_police_contacts_become_referrals_half_as_often_in_the_sample(sample_engine):
    """The planted pattern (sample_data/README.md, pattern 5), as the question finds it."""
    by_source = sample_engine.run("contact_conversion_by_source")
    police = by_source.filter(by_source["source"] == "6").row(0, named=True)
    rest = by_source.filter(by_source["source"] != "6")
    others = rest["baseline_converted"].sum() / rest["baseline_contacts"].sum()
    assert police["baseline_contacts"] > 3000 and police["baseline_rate"] < 0.3 < 0.4 < others
    assert 0.45 <= police["baseline_rate"] / others <= 0.55
    flow = sample_engine.run("front_door_flow").row(0, named=True)
    assert 2.5 <= flow["contacts"] / flow["referrals"] <= 3.0


def test_every_front_door_question_is_documented():
    text = (ROOT / "docs/definitions.md").read_text()
    section = re.split(r"^## ", text.split("## Front door", 1)[1], flags=re.MULTILINE)[0]
    for name in FRONT_DOOR_QUESTIONS:
        assert f"`{name}`" in section, name
