"""The Home page's headline questions, pinned on the tiny extract and at their edges."""

import pytest

from helpers import referral, replace_rows


def one(engine, name, column, **params):
    return engine.run(name, **params)[column][0]


def test_headlines_on_the_tiny_extract(tiny_engine):
    # Hand-counted from tests/tiny_extract.py on 2026-03-31.
    assert one(tiny_engine, "open_cases", "open_cases") == 5  # C1 (R7), C2, C3, C5, C6; R1 closed, R4 NFA
    assert one(tiny_engine, "children_on_cp_plans", "children_on_cp_plans") == 1  # P1; P2 ended
    assert one(tiny_engine, "looked_after_children", "looked_after_children") == 1  # E1; E2 ended
    assert tiny_engine.run("referrals_last_12_months").row(0) == (7, 6, 1)
    assert tiny_engine.run("rereferral_rate").row(0) == (7, 1, pytest.approx(1 / 7))  # R7 after R1


def test_team_filter(tiny_engine):
    assert one(tiny_engine, "open_cases", "open_cases", team_id="T2") == 3  # C2, C3, C6
    assert one(tiny_engine, "children_on_cp_plans", "children_on_cp_plans", team_id="T1") == 0
    assert one(tiny_engine, "looked_after_children", "looked_after_children", team_id="T3") == 1


@pytest.mark.parametrize(
    ("referral_date", "closure_date", "nfa", "is_open"),
    [
        ("2026-03-31", None, False, True),  # referred on as_of itself: open
        ("2026-03-01", "2026-03-31", False, False),  # closed on as_of: not open
        ("2026-03-01", "2026-04-01", False, True),  # closes after as_of: open on as_of
        ("2026-03-01", None, True, False),  # NFA is never a case
        ("2026-04-01", None, False, False),  # after as_of
    ],
)
def test_open_referral_edges(make_engine, referral_date, closure_date, nfa, is_open):
    engine = make_engine(replace_rows("referrals", [referral("R1", "C1", referral_date, nfa=nfa, closed=closure_date)]))
    assert one(engine, "open_cases", "open_cases") == int(is_open)


def test_a_child_with_two_open_referrals_is_one_case(make_engine):
    rows = [referral("R1", "C1", "2026-01-01"), referral("R2", "C1", "2026-02-01", team="T2", worker="W3")]
    engine = make_engine(replace_rows("referrals", rows))
    assert engine.run("open_cases").row(0) == (1, 2)


@pytest.mark.parametrize(
    ("first", "second", "is_rereferral"),
    [
        ("2025-06-01", "2026-06-01", False),  # 365 days but second after as_of: not in the window
        ("2025-01-01", "2026-01-01", True),  # exactly 365 days before: a re-referral
        ("2024-12-31", "2026-01-01", False),  # 366 days: not
        ("2026-01-01", "2026-01-01", False),  # same day: not (strictly earlier date)
        ("2025-12-31", "2026-01-01", True),  # 1 day
    ],
)
def test_rereferral_edges(make_engine, first, second, is_rereferral):
    rows = [referral("R1", "C1", first, nfa=True), referral("R2", "C1", second)]
    engine = make_engine(replace_rows("referrals", rows))
    result = engine.run("rereferral_rate").row(0, named=True)
    assert result["rereferrals"] == int(is_rereferral)


def test_twelve_month_window_edges(make_engine):
    rows = [
        referral("R1", "C1", "2025-03-31"),  # as_of - 365: outside
        referral("R2", "C2", "2025-04-01"),  # as_of - 364: inside
        referral("R3", "C3", "2026-03-31"),  # as_of: inside
    ]
    engine = make_engine(replace_rows("referrals", rows))
    assert one(engine, "referrals_last_12_months", "referrals") == 2
    # Both R2 and R3 are first referrals of their children: no re-referrals, rate 0.
    assert engine.run("rereferral_rate").row(0) == (2, 0, 0.0)


def test_referrals_by_month_fills_empty_months_and_totals(tiny_engine):
    by_team = tiny_engine.run("referrals_by_month", months=3)
    assert by_team.height == 9  # 3 months x 3 teams
    total = tiny_engine.run("referrals_by_month", months=3, total=True)
    assert total["referrals"].to_list() == [1, 1, 0]  # R7 January, R6 February, none in March
    assert total["referrals"].sum() == by_team["referrals"].sum()


def test_referral_facts_and_holding_flag_returns_after_closure_and_supersede_by_date_then_referral_id(make_engine):
    rows = [
        referral("R1", "C1", "2025-01-10", closed="2025-02-01"),
        referral("R3", "C1", "2025-06-01", nfa=True, closed="2025-06-01"),  # 120 days after R1 closed
        referral("R2", "C1", "2025-06-01"),  # same day as R3, lower ID: R3 is the later of the two
        referral("R4", "C2", "2024-01-01", closed="2024-03-01"),  # C2 back 366 days after closing: not returned
        referral("R5", "C2", "2025-03-02"),
    ]
    engine = make_engine(replace_rows("referrals", rows))
    facts = engine.con.sql(
        "SELECT referral_id, CAST(h.superseded_on AS VARCHAR), f.is_rereferral, f.returned_within_365 "
        "FROM referral_facts AS f JOIN referral_holding AS h USING (referral_id) ORDER BY referral_id"
    ).fetchall()
    assert facts == [
        ("R1", "2025-06-01", False, True),
        ("R2", "2025-06-01", True, None),  # superseded by R3 on its own date; open, so no return flag
        ("R3", None, True, False),
        ("R4", "2025-03-02", False, False),
        ("R5", None, False, None),
    ]
