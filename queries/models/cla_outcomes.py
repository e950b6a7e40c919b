"""Children in care: going missing, unaccompanied asylum-seeking children, and care leavers.

Figures follow DfE's "Children looked after in England including adoptions" where it publishes
one, so the council's can be set beside England's (queries/reference/england_children_in_care.toml):
the share of children looked after in the year who went missing, incidents per child, the share of
children in care who are UASC, and care leavers' contact, activity and accommodation by age.
DuckDB counts; Wilson intervals are added here.
"""

from __future__ import annotations

import polars as pl

from queries.models.cla_common import (
    TEAM_IN_YEAR,
    TEAM_OF_LATEST,
    TEAM_ON_AS_OF,
    for_team,
    share_columns,
    with_share,
)
from queries.registry import python_query

AS_OF_PARAM = "as_of date = as_of ; the date the figures are judged on"
TEAM_WORDS = (
    "An extract without a referrals table (an SSDA903 return alone) links no child to a team, so a team's figures "
    "there are empty; the council's need no referrals."
)

MISSING_SQL = f"""
WITH in_care AS (
    -- Episodes of care on at least one day of the 12 months to as_of.
    SELECT child_id, start_date, end_date
    FROM looked_after
    WHERE start_date <= $as_of AND (end_date IS NULL OR end_date > $as_of - 365)
      AND {for_team("child_id", TEAM_IN_YEAR)}
),
in_year AS (
    SELECT m.child_id, m.start_date, m.end_date, m.missing_type, m.return_interview_offered,
           EXISTS (SELECT 1 FROM looked_after AS e
                   WHERE e.child_id = m.child_id AND e.start_date <= m.start_date
                     AND (e.end_date IS NULL OR e.end_date >= m.start_date)) AS while_in_care
    FROM missing_episodes AS m
    WHERE m.start_date > $as_of - 365 AND m.start_date <= $as_of AND {for_team("m.child_id", TEAM_IN_YEAR)}
),
episodes AS (
    SELECT * FROM in_year WHERE while_in_care
)
SELECT (SELECT count(DISTINCT child_id) FROM in_care) AS looked_after_in_year,
       count(DISTINCT child_id) FILTER (WHERE missing_type = 'M') AS children_missing,
       count(DISTINCT child_id) FILTER (WHERE missing_type = 'A') AS children_away,
       count(DISTINCT child_id) AS children_missing_or_away,
       count(*) FILTER (WHERE missing_type = 'M') AS missing_episodes,
       count(*) FILTER (WHERE missing_type = 'A') AS away_episodes,
       count(*) FILTER (WHERE end_date IS NULL OR end_date > $as_of) AS not_back_on_as_of,
       median(end_date - start_date) FILTER (WHERE end_date <= $as_of) AS median_episode_days,
       count(*) FILTER (WHERE missing_type = 'M' AND return_interview_offered IS NOT NULL) AS interviews_recorded,
       count(*) FILTER (WHERE missing_type = 'M' AND return_interview_offered) AS interviews_offered,
       (SELECT count(*) FROM in_year WHERE NOT while_in_care) AS episodes_outside_care
FROM episodes
"""


def per_child(frame: pl.DataFrame, episodes: str, children: str, name: str) -> pl.DataFrame:
    return frame.with_columns(pl.when(pl.col(children) > 0).then(pl.col(episodes) / pl.col(children)).alias(name))


@python_query(
    "missing_from_care",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[
        ["looked_after_in_year"],
        ["children_missing"],
        ["children_away"],
        ["children_missing_or_away"],
        ["missing_episodes", "away_episodes"],
        ["not_back_on_as_of"],
        ["interviews_recorded"],
        ["interviews_offered"],
        ["episodes_outside_care"],
    ],
    derived={
        **share_columns("children_missing", "looked_after_in_year", "missing_share"),
        **share_columns("children_away", "looked_after_in_year", "away_share"),
        **share_columns("children_missing_or_away", "looked_after_in_year", "missing_or_away_share"),
        **share_columns("interviews_offered", "interviews_recorded", "interview_share"),
        "missing_episodes_per_child": ["missing_episodes", "children_missing"],
        "away_episodes_per_child": ["away_episodes", "children_away"],
        "median_episode_days": ["missing_episodes", "away_episodes"],
    },
    title="Children missing or away from care",
    description="Over the 12 months to as_of (after as_of - 365, up to as_of): children looked after on at least "
    "one day of them (looked_after_in_year, DfE's 'children looked after during the year'); of them, children with "
    "a missing incident (M: whereabouts not known), away without authorisation (A: whereabouts known) and either, "
    "each share with its Wilson 95% interval (England 2025: 11% went missing); incidents of each kind and per child "
    "(England 2025: 6.8 missing, 4.5 away); incidents not over by as_of; the median length in days (end date minus "
    "start date, so back the same day is 0) of those that were; and, of missing incidents with a return interview "
    "recorded, the share where one was offered. An incident counts when it started in the 12 months during a "
    "period of care (so its child is one of looked_after_in_year); episodes_outside_care counts those in the 12 "
    "months that did not (left out: a date or a child to check). With a team: "
    "children whose referral (not NFA) the team held on at least one day of the 12 months. " + TEAM_WORDS,
    tables=["looked_after", "missing_episodes"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, "team_id str = null ; only children this team worked with in the 12 months"],
)
def missing_from_care(cursor, as_of, team_id) -> pl.DataFrame:
    frame = cursor.sql(MISSING_SQL, params={"as_of": as_of, "team_id": team_id}).pl()
    for count, name in (
        ("children_missing", "missing_share"),
        ("children_away", "away_share"),
        ("children_missing_or_away", "missing_or_away_share"),
    ):
        frame = with_share(frame, count, "looked_after_in_year", name)
    frame = with_share(frame, "interviews_offered", "interviews_recorded", "interview_share")
    frame = per_child(frame, "missing_episodes", "children_missing", "missing_episodes_per_child")
    return per_child(frame, "away_episodes", "children_away", "away_episodes_per_child")


UASC_SQL = f"""
WITH in_care AS (
    SELECT DISTINCT child_id FROM looked_after
    WHERE start_date <= $as_of AND (end_date IS NULL OR end_date > $as_of) AND {for_team("child_id", TEAM_ON_AS_OF)}
)
SELECT count(*) AS looked_after_children,
       count(*) FILTER (WHERE child_id IN (
           SELECT child_id FROM uasc WHERE ceased_date IS NULL OR ceased_date > $as_of)) AS uasc_children
FROM in_care
"""


@python_query(
    "cla_uasc",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[["looked_after_children"], ["uasc_children"]],
    derived=share_columns("uasc_children", "looked_after_children", "uasc_share"),
    title="Unaccompanied asylum-seeking children in care",
    description="Children in a period of care on as_of, and those of them who were unaccompanied asylum-seeking "
    "children (UASC) on as_of (a uasc row with no ceased_date, or one after as_of), with their share and its "
    "Wilson 95% interval (England 2025: 8%, 6,540 of 81,770). With a team, only children whose open referral (not "
    "NFA) that team holds on as_of. " + TEAM_WORDS,
    tables=["looked_after", "uasc"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, "team_id str = null ; only children with an open referral held by this team"],
)
def cla_uasc(cursor, as_of, team_id) -> pl.DataFrame:
    frame = cursor.sql(UASC_SQL, params={"as_of": as_of, "team_id": team_id}).pl()
    return with_share(frame, "uasc_children", "looked_after_children", "uasc_share")


CARE_LEAVERS_SQL = f"""
WITH latest AS (
    SELECT child_id, in_touch, activity, accommodation, accommodation_suitable
    FROM care_leavers
    WHERE recorded_date <= $as_of
    QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY recorded_date DESC) = 1
),
aged AS (
    SELECT l.*,
           date_diff('year', c.birth_date, $as_of)
           - CASE WHEN strftime($as_of, '%m%d') < strftime(c.birth_date, '%m%d') THEN 1 ELSE 0 END AS age
    FROM latest AS l
    JOIN children AS c ON c.child_id = l.child_id
    WHERE l.in_touch NOT IN ('DIED', 'RHOM') AND {for_team("l.child_id", TEAM_OF_LATEST)}
),
banded AS (
    SELECT *, CASE WHEN age BETWEEN 17 AND 18 THEN '17-18' WHEN age BETWEEN 19 AND 21 THEN '19-21'
                   ELSE 'other ages' END AS age_band
    FROM aged
)
SELECT k.age_band, k.age_band_label,
       count(b.child_id) AS care_leavers,
       count(b.child_id) FILTER (WHERE b.in_touch = 'YES') AS in_touch,
       count(b.child_id) FILTER (WHERE b.activity LIKE 'F%' OR b.activity LIKE 'P%') AS eet,
       count(b.child_id) FILTER (WHERE b.activity LIKE 'G%') AS neet,
       count(b.child_id) FILTER (WHERE b.activity IS NULL OR NOT regexp_matches(b.activity, '^[FPG]')) AS activity_unknown,
       count(b.child_id) FILTER (WHERE b.accommodation_suitable) AS suitable,
       count(b.child_id) FILTER (WHERE NOT b.accommodation_suitable) AS unsuitable,
       count(b.child_id) FILTER (WHERE b.accommodation_suitable IS NULL) AS accommodation_unknown
FROM (VALUES (1, '17-18', 'Aged 17 or 18'), (2, '19-21', 'Aged 19 to 21'),
             (3, 'other ages', 'Other ages (under 17 or over 21)')) AS k(position, age_band, age_band_label)
LEFT JOIN banded AS b ON b.age_band = k.age_band
GROUP BY k.position, k.age_band, k.age_band_label
ORDER BY k.position
"""


@python_query(
    "care_leaver_outcomes",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[
        ["care_leavers"],
        ["in_touch"],
        ["eet", "neet", "activity_unknown"],
        ["suitable", "unsuitable", "accommodation_unknown"],
    ],
    derived={
        **share_columns("in_touch", "care_leavers", "in_touch_share"),
        **share_columns("eet", "care_leavers", "eet_share"),
        **share_columns("suitable", "care_leavers", "suitable_share"),
    },
    title="Care leavers: in touch, in education, employment or training, and suitably housed",
    description="Care leavers by age on as_of (from children.birth_date): 17-18, 19-21 and other ages. Each young "
    "person's latest care_leavers record on or before as_of counts; those who died or went home to their parents "
    "for 6 months or more (DIED, RHOM) are left out, as DfE leaves them out. in_touch: the council is in touch "
    "(YES); eet: in education, employment or training (activity F* or P*), neet: not (G*), activity_unknown: no or "
    "another code; suitable / unsuitable / accommodation_unknown: whether their accommodation was judged suitable. "
    "Shares are of all care leavers of the age, as DfE gives them, with Wilson 95% intervals. With a team: young "
    "people whose latest referral (not NFA) on or before as_of the team held. " + TEAM_WORDS,
    tables=["care_leavers", "children"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, "team_id str = null ; only young people whose latest referral this team held"],
)
def care_leaver_outcomes(cursor, as_of, team_id) -> pl.DataFrame:
    frame = cursor.sql(CARE_LEAVERS_SQL, params={"as_of": as_of, "team_id": team_id}).pl()
    for count, name in (("in_touch", "in_touch_share"), ("eet", "eet_share"), ("suitable", "suitable_share")):
        frame = with_share(frame, count, "care_leavers", name)
    return frame
