"""Looked-after children's reviews: held on time, overdue, and how children took part.

The timetable is regulation 33 of the Care Planning, Placement and Case Review (England)
Regulations 2010: the first review within 20 working days of the day a child becomes looked after,
the second within 3 months of the first, each later one within 6 months of the one before.

A period of care is a run of SSDA903 episodes, each starting on or before the day the one before
ended (a change of placement or legal status starts a new episode, not a new period). Reviews are
those of `cla_reviews` dated within the period (up to as_of). Each review of a period is due on the
date the timetable gives from the review before it (the first from the period's start), and so is
the next review not yet held. Short breaks (legal status V3, V4) follow another timetable
(regulation 48) and are left out. DuckDB does the work; Wilson intervals are added here.
"""

from __future__ import annotations

import polars as pl

from queries.models.cla_common import TEAM_IN_YEAR, TEAM_ON_AS_OF, for_team, share_columns, with_share
from queries.registry import python_query

AS_OF_PARAM = "as_of date = as_of ; the date the figures are judged on (the 12 months up to it)"
TEAM_PARAM = "team_id str = null ; only children this team works with (see the description)"

# One row per review of each period of care, held (review_date) or the next one not yet held
# (review_date null), with the date it was due by.
REVIEW_ITEMS = """
WITH episodes AS (
    SELECT child_id, start_date, end_date
    FROM looked_after
    WHERE start_date <= $as_of AND legal_status NOT IN ('V3', 'V4')
),
marked AS (
    -- An episode starts a new period unless an earlier episode of the child ends on or after its start.
    SELECT child_id, start_date, end_date,
           CASE WHEN start_date <= max(coalesce(end_date, DATE '9999-12-31')) OVER (
                    PARTITION BY child_id ORDER BY start_date, end_date NULLS LAST
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                THEN 0 ELSE 1 END AS starts_period
    FROM episodes
),
numbered AS (
    SELECT *, sum(starts_period) OVER (
               PARTITION BY child_id ORDER BY start_date, end_date NULLS LAST ROWS UNBOUNDED PRECEDING) AS period_no
    FROM marked
),
periods AS (
    -- period_end is null while the child is still in care on as_of.
    SELECT child_id, min(start_date) AS period_start,
           CASE WHEN bool_or(end_date IS NULL OR end_date > $as_of) THEN NULL ELSE max(end_date) END AS period_end
    FROM numbered
    GROUP BY child_id, period_no
),
held AS (
    SELECT p.child_id, p.period_start, p.period_end, v.review_date,
           row_number() OVER w AS review_number, lag(v.review_date) OVER w AS previous_review
    FROM periods AS p
    JOIN cla_reviews AS v
      ON v.child_id = p.child_id AND v.review_date >= p.period_start AND v.review_date <= coalesce(p.period_end, $as_of)
    WINDOW w AS (PARTITION BY p.child_id, p.period_start ORDER BY v.review_date)
),
next_review AS (
    SELECT p.child_id, p.period_start, p.period_end, NULL::DATE AS review_date,
           count(h.review_date) + 1 AS review_number, max(h.review_date) AS previous_review
    FROM periods AS p
    LEFT JOIN held AS h ON h.child_id = p.child_id AND h.period_start = p.period_start
    GROUP BY p.child_id, p.period_start, p.period_end
),
review_items AS (
    SELECT i.*,
           CASE WHEN i.review_number = 1 THEN first_due.d
                WHEN i.review_number = 2 THEN CAST(i.previous_review + INTERVAL 3 MONTH AS DATE)
                ELSE CAST(i.previous_review + INTERVAL 6 MONTH AS DATE) END AS due_date
    FROM (SELECT * FROM held UNION ALL SELECT * FROM next_review) AS i
    LEFT JOIN calendar AS start_day ON start_day.d = i.period_start
    LEFT JOIN working_day_seq AS first_due ON first_due.wd_index = start_day.wd_index + 20
)
"""

# A review is judged when its due date falls in the 12 months to as_of: held ones by whether they
# were held by then; one not held, when the child was still in care on the due date and that date
# is before as_of (on as_of itself it can still be held). Overdue now: the next review of a child
# in care on as_of, due before as_of.
TIMELINESS_SQL = (
    REVIEW_ITEMS
    + f""",
judged AS (
    SELECT review_number, review_date, due_date, true AS is_due, false AS is_overdue
    FROM review_items
    WHERE due_date > $as_of - 365 AND due_date <= $as_of
      AND (review_date IS NOT NULL OR (due_date < $as_of AND (period_end IS NULL OR period_end > due_date)))
      AND {for_team("child_id", TEAM_IN_YEAR)}
    UNION ALL
    SELECT review_number, review_date, due_date, false, true
    FROM review_items
    WHERE review_date IS NULL AND period_end IS NULL AND due_date < $as_of
      AND {for_team("child_id", TEAM_ON_AS_OF)}
),
categorised AS (
    SELECT *, CASE review_number WHEN 1 THEN 'first' WHEN 2 THEN 'second' ELSE 'later' END AS review
    FROM judged
)
SELECT k.review, k.review_label,
       count(c.review) FILTER (WHERE c.is_due) AS reviews_due,
       count(c.review) FILTER (WHERE c.is_due AND c.review_date <= c.due_date) AS on_time,
       count(c.review) FILTER (WHERE c.is_due AND c.review_date > c.due_date) AS held_late,
       count(c.review) FILTER (WHERE c.is_due AND c.review_date IS NULL) AS not_held,
       count(c.review) FILTER (WHERE c.is_overdue) AS overdue_now
FROM (VALUES
        (1, 'first', 'First review: within 20 working days of coming into care'),
        (2, 'second', 'Second review: within 3 months of the first'),
        (3, 'later', 'Later reviews: within 6 months of the one before'),
        (4, 'all', 'All reviews')
     ) AS k(position, review, review_label)
LEFT JOIN categorised AS c ON k.review = 'all' OR c.review = k.review
GROUP BY k.position, k.review, k.review_label
ORDER BY k.position
"""
)

OVERDUE_SQL = (
    REVIEW_ITEMS
    + f""",
open_referral AS (
    SELECT child_id, team_id, worker_id
    FROM referrals
    WHERE NOT nfa AND referral_date <= $as_of AND (closure_date IS NULL OR closure_date > $as_of)
    QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY referral_date DESC, referral_id DESC) = 1
)
SELECT i.child_id, i.period_start AS in_care_since, i.previous_review AS last_review,
       i.review_number AS review_number, i.due_date, CAST($as_of - i.due_date AS BIGINT) AS days_overdue,
       o.team_id, o.worker_id
FROM review_items AS i
LEFT JOIN open_referral AS o ON o.child_id = i.child_id
WHERE i.review_date IS NULL AND i.period_end IS NULL AND i.due_date < $as_of
  AND {for_team("i.child_id", TEAM_ON_AS_OF)}
ORDER BY days_overdue DESC, i.child_id
"""
)

PARTICIPATION_SQL = f"""
WITH held AS (
    SELECT coalesce(participation, 'not recorded') AS participation
    FROM cla_reviews
    WHERE review_date > $as_of - 365 AND review_date <= $as_of AND {for_team("child_id", TEAM_IN_YEAR)}
),
codes AS (
    -- Every code of the list, and any other value met (the validator names it), so none is lost.
    SELECT code FROM code_labels WHERE list = 'cla_review_participation'
    UNION SELECT participation FROM held
    UNION SELECT 'not recorded'
)
SELECT k.code AS participation,
       CASE k.code WHEN 'not recorded' THEN 'Not recorded' WHEN 'all' THEN 'All reviews held'
            ELSE code_label('cla_review_participation', k.code) END AS participation_label,
       count(h.participation) AS reviews,
       (SELECT count(*) FROM held) AS all_reviews
FROM (SELECT code FROM codes UNION ALL SELECT 'all') AS k
LEFT JOIN held AS h ON k.code = 'all' OR h.participation = k.code
GROUP BY k.code
ORDER BY k.code = 'all', k.code = 'not recorded', k.code
"""

TEAM_WORDS = (
    "With a team: reviews of children whose referral (not NFA) the team held on at least one day of the 12 months, "
    "and overdue reviews of children whose open referral it holds on as_of. An extract without a referrals table "
    "(an SSDA903 return alone) links no child to a team, so a team's figures there are empty."
)


@python_query(
    "cla_review_timeliness",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[["on_time", "held_late", "not_held", "reviews_due"], ["overdue_now"]],
    derived=share_columns("on_time", "reviews_due", "on_time_share"),
    title="Looked-after children's reviews held on time",
    description="Reviews due in the 12 months to as_of (due date after as_of - 365, up to as_of) and whether each "
    "was held by its due date (Care Planning, Placement and Case Review (England) Regulations 2010, reg. 33): the "
    "first within 20 working days of the child coming into care, the second within 3 months of the first, later "
    "ones within 6 months of the one before. A review not held counts once the child was still in care on its due "
    "date and that date has passed. on_time_share with its Wilson 95% interval. overdue_now: children in care on "
    "as_of whose next review was due before as_of. Rows: first, second, later reviews and all. Periods of care "
    "join episodes that follow on; short breaks (V3, V4) have another timetable and are left out. " + TEAM_WORDS,
    tables=["looked_after", "cla_reviews"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, TEAM_PARAM],
)
def cla_review_timeliness(cursor, as_of, team_id) -> pl.DataFrame:
    counts = cursor.sql(TIMELINESS_SQL, params={"as_of": as_of, "team_id": team_id}).pl()
    return with_share(counts, "on_time", "reviews_due", "on_time_share")


@python_query(
    "cla_overdue_reviews",
    access="child-level",
    roles=("analyst", "team_manager", "social_worker"),
    title="Looked-after children with an overdue review",
    description="One row per child in care on as_of whose next review (reg. 33 timetable, as in "
    "cla_review_timeliness) was due before as_of and has not been held: when the period of care began, the last "
    "review held, which review is due (1 = first), its due date, days overdue on as_of, and the team and worker of "
    "the child's open referral (none without a referrals table). Most overdue first. With a team, only children "
    "whose open referral (not NFA) that team holds on as_of.",
    tables=["looked_after", "cla_reviews"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, "team_id str = null ; only children whose open referral this team holds"],
)
def cla_overdue_reviews(cursor, as_of, team_id) -> pl.DataFrame:
    return cursor.sql(OVERDUE_SQL, params={"as_of": as_of, "team_id": team_id}).pl()


@python_query(
    "cla_review_participation",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[["reviews"], ["all_reviews"]],
    derived=share_columns("reviews", "all_reviews", "share"),
    title="How children took part in their reviews",
    description="Looked-after children's reviews held in the 12 months to as_of by the SSDA903 participation code "
    "(PN0 under 4; PN1 attended and spoke for themselves … PN7 did not attend or convey their views; 'not recorded' "
    "when the code is missing), each with its share of all reviews held and a Wilson 95% interval; a last row "
    "'all'. With a team: reviews of children whose referral (not NFA) the team held on at least one day of the "
    "12 months; an extract without a referrals table links no child to a team, so a team's figures there are empty.",
    tables=["cla_reviews"],
    optional_tables=["referrals"],
    params=[AS_OF_PARAM, TEAM_PARAM],
)
def cla_review_participation(cursor, as_of, team_id) -> pl.DataFrame:
    counts = cursor.sql(PARTICIPATION_SQL, params={"as_of": as_of, "team_id": team_id}).pl()
    return with_share(counts, "reviews", "all_reviews", "share")
