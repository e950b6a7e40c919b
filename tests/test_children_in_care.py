"""Children in care questions, hand-counted on the tiny extract and on an SSDA903-only extract.

The SSDA903-only extract (`care_only_tables`) has what a looked-after children's team gets from its
903 return: children, looked_after, cla_reviews, missing_episodes, care_leavers and uasc, and no
referrals, teams, workers, assessments or factors. Every children-in-care question answers there.
Its as_of is 31 March 2026, so the 12 months are 1 April 2025 to 31 March 2026.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helpers import rows_frame
from queries.engine import Engine
from queries.stats import wilson_interval
from schemas.extract import open_extract
from tiny_extract import write_extract

CARE_QUESTIONS = [
    "looked_after_children",
    "placement_costs",
    "cla_legal_status",
    "cla_uasc",
    "cla_review_timeliness",
    "cla_overdue_reviews",
    "cla_review_participation",
    "missing_from_care",
    "care_leaver_outcomes",
    "cla_england_reference",
]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def episode(eid, child, start, end, legal, placement, cost=None) -> dict:
    return {"episode_id": eid, "child_id": child, "start_date": start, "end_date": end, "legal_status": legal,
            "placement_type": placement, "weekly_cost": cost}  # fmt: skip


def care_only_tables() -> dict:
    """An SSDA903 return alone. A1-A5 were in care in the year, L1-L6 are care leavers; the story of each
    child is beside its rows (review due dates worked out by hand from the working-day calendar)."""
    children = [
        ("A1", "2012-01-01"), ("A2", "2010-05-05"), ("A3", "2015-02-02"), ("A4", "2011-07-07"), ("A5", "2009-01-01"),
        ("L1", "2008-02-01"), ("L2", "2008-09-01"), ("L3", "2006-01-15"), ("L4", "2004-12-01"), ("L5", "2003-06-01"),
        ("L6", "2007-03-01"),
    ]  # fmt: skip
    looked_after = [
        # A1: one period of care from Mon 2 June 2025 in two episodes (a new legal status on 1 September).
        episode("E1", "A1", "2025-06-02", "2025-09-01", "C1", "U6", 650.0),
        episode("E2", "A1", "2025-09-01", None, "C2", "U4", 700.0),
        # A2: in care since January 2024; UASC until 1 December 2025.
        episode("E3", "A2", "2024-01-10", None, "V2", "K2", 3500.0),
        # A3: came into care on Mon 2 March 2026; first review due Mon 30 March, not held.
        episode("E4", "A3", "2026-03-02", None, "C1", "U6", 600.0),
        # A4: left care on 30 May 2025; short breaks (V3) since July, on another review timetable.
        episode("E5", "A4", "2025-01-06", "2025-05-30", "V2", "U6", 600.0),
        episode("E6", "A4", "2025-07-01", None, "V3", "U6", None),
        # A5: came into care on Mon 3 November 2025, a UASC; cost not recorded.
        episode("E7", "A5", "2025-11-03", None, "C2", "R1", None),
    ]
    reviews = [
        # A1: first due 30 June 2025 (held 20 June: on time); second due 20 September (held 25th: late);
        # third due 25 March 2026, not held: overdue on as_of.
        ("A1", "2025-06-20", "PN1"), ("A1", "2025-09-25", "PN7"),
        # A2: every review on time; the 4th (due 20 April 2025) and 5th (due 15 October) fall in the 12 months.
        ("A2", "2024-01-30", "PN2"), ("A2", "2024-04-25", "PN2"), ("A2", "2024-10-20", "PN2"),
        ("A2", "2025-04-15", "PN1"), ("A2", "2025-10-10", None),
        # A4: first on time (due 3 February 2025); second due 20 April 2025 while still in care, never held.
        ("A4", "2025-01-20", "PN4"),
        # A5: first due 1 December 2025 (held the 10th: late); second due 10 March 2026 (held the 5th: on time).
        ("A5", "2025-12-10", "PN5"), ("A5", "2026-03-05", "PN1"),
    ]  # fmt: skip
    missing = [
        ("A1", "2025-07-01", "2025-07-03", "M", True),  # 2 days, return interview offered
        ("A1", "2025-11-11", "2025-11-11", "M", False),  # back the same day: 0 days; not offered
        ("A1", "2026-03-30", None, "M", None),  # still missing on as_of
        ("A5", "2026-01-05", "2026-01-06", "A", None),  # away, 1 day
        ("A5", "2026-02-01", "2026-02-05", "M", None),  # 4 days, interview not recorded
        ("A2", "2025-02-01", "2025-02-02", "M", True),  # before the 12 months
        ("A4", "2025-06-15", "2025-06-16", "A", None),  # between A4's periods of care: left out
        ("L3", "2025-05-05", "2025-05-06", "M", None),  # L3 was not in care: left out
    ]
    leavers = [
        ("L1", "2025-03-01", "YES", "G5", "B", True),  # aged 18; an older record, replaced by the next
        ("L1", "2026-02-01", "YES", "F4", "D", True),
        ("L2", "2026-01-10", "NO", None, None, None),  # aged 17, not in touch
        ("L3", "2025-12-01", "YES", "G4", "U", False),  # aged 20
        ("L3", "2026-04-10", "YES", "F4", "U", True),  # after as_of: not yet known on as_of
        ("L4", "2026-03-20", "REFU", "P2", "K", None),  # aged 21, refused contact
        ("L5", "2026-01-01", "YES", "F1", "U", True),  # aged 22
        ("L6", "2026-02-02", "DIED", None, None, None),  # died: left out, as DfE does
    ]
    return {
        "children": rows_frame(
            "children", [{"child_id": c, "sex": "M", "birth_date": b, "family_id": None} for c, b in children]
        ),
        "looked_after": rows_frame("looked_after", looked_after),
        "cla_reviews": rows_frame(
            "cla_reviews", [{"child_id": c, "review_date": d, "participation": p} for c, d, p in reviews]
        ),
        "missing_episodes": rows_frame(
            "missing_episodes",
            [
                {"child_id": c, "start_date": s, "end_date": e, "missing_type": t, "return_interview_offered": o}
                for c, s, e, t, o in missing
            ],
        ),  # fmt: skip
        "care_leavers": rows_frame(
            "care_leavers",
            [
                {
                    "child_id": c,
                    "recorded_date": d,
                    "in_touch": t,
                    "activity": a,
                    "accommodation": h,
                    "accommodation_suitable": s,
                }
                for c, d, t, a, h, s in leavers
            ],
        ),  # fmt: skip
        "uasc": rows_frame(
            "uasc",
            [
                {"child_id": "A5", "ceased_date": None},
                {"child_id": "A2", "ceased_date": "2025-12-01"},
                {"child_id": "L1", "ceased_date": None},
            ],
        ),  # fmt: skip
    }


CARE_ONLY_MANIFEST = {"contract": "1.1", "as_of": "2026-03-31", "la_name": "Care Only Borough", "la_code": "001"}


def write_care_only(folder):
    return write_extract(folder, care_only_tables(), manifest=CARE_ONLY_MANIFEST)


@pytest.fixture
def care_only(tmp_path):
    engine = Engine(open_extract(write_care_only(tmp_path / "care_only")))
    yield engine
    engine.close()


def by(frame, column: str) -> dict:
    return {row[column]: row for row in frame.iter_rows(named=True)}


def counts(row: dict, *columns: str) -> tuple:
    return tuple(row[c] for c in columns)


TIMELINESS = ("reviews_due", "on_time", "held_late", "not_held", "overdue_now")


# ---- the SSDA903-only extract ----------------------------------------------------------------------------------


def test_the_care_only_extract_has_no_front_door_tables(care_only):
    for table in ("referrals", "teams", "workers", "assessments", "factors"):
        assert not care_only.usable(table)
    for name in CARE_QUESTIONS:
        query = care_only.query(name)
        assert care_only.unavailable_reason(query.tables) is None, name  # none needs a missing table
        care_only.run(name)  # and each answers


def test_children_in_care_now_on_the_care_only_extract(care_only):
    # In care on 31 March 2026: A1 (E2), A2, A3, A4 (short breaks) and A5.
    assert care_only.run("looked_after_children")["looked_after_children"][0] == 5
    status = by(care_only.run("cla_legal_status"), "legal_status")
    assert [(name, row["children"]) for name, row in status.items()] == [
        ("Full care order (C2)", 2),  # A1, A5
        ("Accommodated under section 20 (single period) (V2)", 1),
        ("Accommodated under section 20: series of short breaks, each episode recorded (V3)", 1),
        ("Interim care order (C1)", 1),
        ("All children in care", 5),
    ]
    assert status["Full care order (C2)"]["share"] == pytest.approx(0.4)
    assert status["All children in care"]["is_total"]
    uasc = care_only.run("cla_uasc").row(0, named=True)
    # A5 is a UASC; A2 stopped being one in December; L1 is not in care.
    assert counts(uasc, "looked_after_children", "uasc_children") == (5, 1)
    assert (uasc["uasc_share"], uasc["uasc_share_ci_low"]) == (
        pytest.approx(0.2),
        pytest.approx(wilson_interval(1, 5)[0]),
    )


def test_placement_costs_on_the_care_only_extract(care_only):
    costs = by(care_only.run("placement_costs"), "placement_type")
    assert counts(costs["U6"], "children", "episodes", "with_cost", "cost_unknown", "weekly_spend") == (
        2,
        2,
        1,
        1,
        600.0,
    )
    assert counts(costs["R1"], "children", "cost_unknown", "weekly_spend") == (1, 1, 0.0)  # A5: cost not recorded
    assert counts(costs["all"], "children", "episodes", "with_cost", "weekly_spend") == (5, 5, 3, 4800.0)


def test_review_timeliness_on_the_care_only_extract(care_only):
    rows = by(care_only.run("cla_review_timeliness"), "review")
    assert counts(rows["first"], *TIMELINESS) == (3, 1, 1, 1, 1)  # A1 on time, A5 late, A3 not held (overdue)
    assert counts(rows["second"], *TIMELINESS) == (3, 1, 1, 1, 0)  # A5 on time, A1 late, A4 not held (left care)
    assert counts(rows["later"], *TIMELINESS) == (3, 2, 0, 1, 1)  # A2's 4th and 5th; A1's 3rd overdue
    assert counts(rows["all"], *TIMELINESS) == (9, 4, 2, 3, 2)
    low, high = wilson_interval(4, 9)
    assert (rows["all"]["on_time_share"], rows["all"]["on_time_share_ci_low"], rows["all"]["on_time_share_ci_high"]) == (
        pytest.approx(4 / 9), pytest.approx(low), pytest.approx(high))  # fmt: skip


def test_overdue_reviews_on_the_care_only_extract(care_only):
    overdue = care_only.run("cla_overdue_reviews")
    assert overdue.select("child_id", "review_number", "due_date", "days_overdue", "last_review").rows() == [
        ("A1", 3, day("2026-03-25"), 6, day("2025-09-25")),
        ("A3", 1, day("2026-03-30"), 1, None),
    ]
    assert overdue["in_care_since"].to_list() == [day("2025-06-02"), day("2026-03-02")]  # A1's period, not E2's start
    assert overdue["team_id"].null_count() == 2  # no referrals: no team to name


def test_review_participation_on_the_care_only_extract(care_only):
    # Reviews held in the 12 months: A1 ×2, A2 ×2, A5 ×2.
    rows = by(care_only.run("cla_review_participation"), "participation")
    shown = {code: row["reviews"] for code, row in rows.items() if row["reviews"]}
    assert shown == {"PN1": 3, "PN5": 1, "PN7": 1, "not recorded": 1, "all": 6}
    assert rows["PN1"]["share"] == pytest.approx(0.5)
    assert rows["PN1"]["share_ci_low"] == pytest.approx(wilson_interval(3, 6)[0])
    assert rows["PN4"]["reviews"] == 0  # A4's PN4 was in January 2025


def test_missing_from_care_on_the_care_only_extract(care_only):
    row = care_only.run("missing_from_care").row(0, named=True)
    assert counts(row, "looked_after_in_year", "children_missing", "children_away", "children_missing_or_away") == (
        5, 2, 1, 2)  # fmt: skip
    assert counts(row, "missing_episodes", "away_episodes", "not_back_on_as_of", "episodes_outside_care") == (
        4,
        1,
        1,
        2,
    )
    assert row["median_episode_days"] == 1.5  # 0, 1, 2 and 4 days; A1's last is not over
    assert counts(row, "interviews_recorded", "interviews_offered", "interview_share") == (2, 1, 0.5)
    assert counts(row, "missing_share", "away_share") == (pytest.approx(0.4), pytest.approx(0.2))
    assert row["missing_share_ci_high"] == pytest.approx(wilson_interval(2, 5)[1])
    assert counts(row, "missing_episodes_per_child", "away_episodes_per_child") == (2.0, 1.0)


def test_care_leaver_outcomes_on_the_care_only_extract(care_only):
    rows = by(care_only.run("care_leaver_outcomes"), "age_band")
    columns = ("care_leavers", "in_touch", "eet", "neet", "activity_unknown", "suitable", "unsuitable",
               "accommodation_unknown")  # fmt: skip
    assert counts(rows["17-18"], *columns) == (2, 1, 1, 0, 1, 1, 0, 1)  # L1 (latest record), L2
    assert counts(rows["19-21"], *columns) == (2, 1, 1, 1, 0, 0, 1, 1)  # L3 (not its April record), L4; not L6
    assert counts(rows["other ages"], *columns) == (1, 1, 1, 0, 0, 1, 0, 0)  # L5, 22
    assert counts(rows["19-21"], "eet_share", "suitable_share", "in_touch_share") == (0.5, 0.0, 0.5)
    assert rows["19-21"]["suitable_share_ci_high"] == pytest.approx(wilson_interval(0, 2)[1])


def test_a_team_finds_no_children_without_referrals(care_only):
    """An SSDA903 return has no teams: with a team every figure is empty, never the council's."""
    assert care_only.run("looked_after_children", team_id="T1")["looked_after_children"][0] == 0
    assert care_only.run("cla_legal_status", team_id="T1")["children"].to_list() == [0]
    assert by(care_only.run("cla_review_timeliness", team_id="T1"), "review")["all"]["reviews_due"] == 0
    assert care_only.run("cla_overdue_reviews", team_id="T1").is_empty()
    assert care_only.run("missing_from_care", team_id="T1")["looked_after_in_year"][0] == 0
    assert care_only.run("care_leaver_outcomes", team_id="T1")["care_leavers"].sum() == 0
    assert care_only.run("placement_costs", team_id="T1")["children"].to_list() == [0]
    assert "referrals table is not in this extract" in care_only.unavailable_reason(
        care_only.query("looked_after_children").optional_tables
    )


# ---- the tiny extract --------------------------------------------------------------------------------------------


def test_children_in_care_on_the_tiny_extract(tiny_engine):
    # C5 in care since 1 December 2025 (C2, U3, £850 a week, a UASC); C4 left care on 31 August 2025.
    assert tiny_engine.run("looked_after_children")["looked_after_children"][0] == 1
    assert tiny_engine.run("cla_legal_status").select("legal_status", "children").rows() == [
        ("Full care order (C2)", 1), ("All children in care", 1)]  # fmt: skip
    assert counts(tiny_engine.run("cla_uasc").row(0, named=True), "looked_after_children", "uasc_children") == (1, 1)


def test_reviews_on_the_tiny_extract(tiny_engine):
    # C5 came into care on Mon 1 December 2025: the 20th working day after, skipping Christmas and Boxing
    # Day, is 31 December; reviewed 20 December (on time), then due 20 March 2026, reviewed 15 March (on
    # time); the next is due 15 September 2026. C4 (from Sat 1 March 2025): first due 28 March 2025, before
    # the 12 months; second due 25 June 2025 while still in care (left 31 August), never held.
    rows = by(tiny_engine.run("cla_review_timeliness"), "review")
    assert counts(rows["first"], *TIMELINESS) == (1, 1, 0, 0, 0)
    assert counts(rows["second"], *TIMELINESS) == (2, 1, 0, 1, 0)
    assert counts(rows["later"], *TIMELINESS) == (0, 0, 0, 0, 0)
    assert rows["later"]["on_time_share"] is None  # nothing due: no share
    assert counts(rows["all"], *TIMELINESS) == (3, 2, 0, 1, 0)
    assert tiny_engine.run("cla_overdue_reviews").is_empty()
    participation = by(tiny_engine.run("cla_review_participation"), "participation")
    assert counts(participation["PN1"], "reviews", "all_reviews", "share") == (2, 2, 1.0)  # C4's PN4 was March 2025


def test_the_first_review_counts_working_days(make_engine):
    """A review on Fri 2 January 2026 is late for C5: 31 December was the 20th working day."""

    def later_first_review(tables):
        tables["cla_reviews"] = rows_frame(
            "cla_reviews",
            [{"child_id": "C5", "review_date": "2026-01-02"}, {"child_id": "C4", "review_date": "2025-03-25"}],
        )

    rows = by(make_engine(later_first_review).run("cla_review_timeliness"), "review")
    assert counts(rows["first"], *TIMELINESS) == (1, 0, 1, 0, 0)
    # The second is then due 2 April 2026, after as_of: not yet due, not overdue.
    assert counts(rows["second"], "reviews_due", "overdue_now") == (1, 0)  # C4's only


def test_missing_and_care_leavers_on_the_tiny_extract(tiny_engine):
    # Looked after in the 12 months: C5 and C4 (to 31 August 2025). C5 was missing 10-12 January 2026
    # (2 days, interview offered) and away 14 February (back the same day, 0 days).
    row = tiny_engine.run("missing_from_care").row(0, named=True)
    assert counts(row, "looked_after_in_year", "children_missing", "children_away", "missing_episodes",
                  "away_episodes", "median_episode_days") == (2, 1, 1, 1, 1, 1.0)  # fmt: skip
    assert counts(row, "interviews_recorded", "interviews_offered", "missing_share") == (1, 1, 0.5)
    # C4 is 16 on 31 March 2026 (born 20 November 2009): a care leaver of another age than 17-21.
    leavers = by(tiny_engine.run("care_leaver_outcomes"), "age_band")
    assert leavers["17-18"]["care_leavers"] == leavers["19-21"]["care_leavers"] == 0
    assert counts(leavers["other ages"], "care_leavers", "in_touch", "eet", "suitable") == (1, 1, 1, 1)


def test_team_filters_on_the_tiny_extract(tiny_engine):
    # T3 holds C5's open referral; C4's only referral was NFA, so C4 is no team's.
    assert tiny_engine.run("looked_after_children", team_id="T3")["looked_after_children"][0] == 1
    assert tiny_engine.run("looked_after_children", team_id="T1")["looked_after_children"][0] == 0
    assert counts(by(tiny_engine.run("cla_review_timeliness", team_id="T3"), "review")["all"], *TIMELINESS) == (
        2, 2, 0, 0, 0)  # fmt: skip
    assert tiny_engine.run("missing_from_care", team_id="T3")["looked_after_in_year"][0] == 1
    assert tiny_engine.run("care_leaver_outcomes", team_id="T3")["care_leavers"].sum() == 0
    assert tiny_engine.run("placement_costs", team_id="T3").filter(placement_type="all")["weekly_spend"][0] == 850.0


def test_england_figures_are_cited():
    from queries.models.cla_common import cla_england_reference

    figures = {row["measure"]: row for row in cla_england_reference(None).iter_rows(named=True)}
    assert {m: r["value"] for m, r in figures.items()} == {
        "cla_per_10000": 67.0,
        "uasc_share": 0.08,
        "missing_share": 0.11,
        "missing_episodes_per_child": 6.8,
        "away_episodes_per_child": 4.5,
    }
    for row in figures.values():
        assert row["year"] == "2025" and row["source"].startswith("DfE, Children looked after in England")


def test_the_python_questions_declare_every_table_their_sql_reads():
    from test_query_engine import contract_tables_read

    from queries.models import cla_outcomes, cla_reviews
    from queries.registry import get_query

    for name, sql in [
        ("cla_review_timeliness", cla_reviews.TIMELINESS_SQL),
        ("cla_overdue_reviews", cla_reviews.OVERDUE_SQL),
        ("cla_review_participation", cla_reviews.PARTICIPATION_SQL),
        ("missing_from_care", cla_outcomes.MISSING_SQL),
        ("cla_uasc", cla_outcomes.UASC_SQL),
        ("care_leaver_outcomes", cla_outcomes.CARE_LEAVERS_SQL),
    ]:
        query = get_query(name)
        assert contract_tables_read(sql) == set(query.tables) | set(query.optional_tables), name
