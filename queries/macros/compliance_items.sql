-- The items behind each compliance measure on each date in `dates`, one row per item, with
-- whether it met the standard (the query contract's definitions):
--   assessment_45wd    assessments authorised in the 12 months to the date; met: within 45
--                      working days of the referral date
--   icpc_15wd          ICPCs held in the 12 months to the date; met: within 15 working days of
--                      the strategy discussion
--   cp_review_timely   CP review conferences in the 12 months to the date; met: the first within
--                      3 months of the plan start, later ones within 6 months of the previous one
--   visits_in_timescale open plans on the date; met: the visit is not overdue
--   cpp_2_years        CP plans open on the date; counted: started 2 years or more before it
--   repeat_cpp         CP plans started in the 12 months to the date; counted: the child had an
--                      earlier CP plan
-- Team: the referral's team (assessments, S47s, plans with a referral); a plan without one takes
-- the team of the child's latest referral on or before the plan started.
CREATE OR REPLACE MACRO compliance_items(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
date_range AS (
    SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM on_dates
),
-- Each assessment (ICPC) judged once, with its team and deadline, then counted on every date whose
-- 12 months it falls in (where joining first would look up the referral and the calendar per date).
assessment_facts AS MATERIALIZED (
    SELECT r.team_id, a.child_id, a.assessment_id, a.authorised_date, deadline.d AS standard_date,
           a.authorised_date <= deadline.d AS met
    FROM assessments AS a
    JOIN referrals AS r ON r.referral_id = a.referral_id
    JOIN calendar AS start_day ON start_day.d = r.referral_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = start_day.wd_index + 45
    WHERE a.authorised_date > (SELECT first_date FROM date_range) - 365
      AND a.authorised_date <= (SELECT last_date FROM date_range)
),
assessment_45wd AS (
    SELECT d.as_of, a.team_id, 'assessment_45wd' AS measure, a.child_id, a.assessment_id AS item_id,
           a.authorised_date AS item_date, a.standard_date, a.met
    FROM on_dates AS d
    JOIN assessment_facts AS a ON a.authorised_date > d.as_of - 365 AND a.authorised_date <= d.as_of
),
icpc_facts AS MATERIALIZED (
    SELECT r.team_id, s.child_id, s.s47_id, s.icpc_date, deadline.d AS standard_date, s.icpc_date <= deadline.d AS met
    FROM section47 AS s
    JOIN referrals AS r ON r.referral_id = s.referral_id
    JOIN calendar AS start_day ON start_day.d = s.strategy_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = start_day.wd_index + 15
    WHERE s.icpc_date > (SELECT first_date FROM date_range) - 365
      AND s.icpc_date <= (SELECT last_date FROM date_range)
),
icpc_15wd AS (
    SELECT d.as_of, s.team_id, 'icpc_15wd', s.child_id, s.s47_id, s.icpc_date, s.standard_date, s.met
    FROM on_dates AS d
    JOIN icpc_facts AS s ON s.icpc_date > d.as_of - 365 AND s.icpc_date <= d.as_of
),
plan_teams AS (
    -- Date-independent facts about each CP plan: its team (its referral's, else that of the
    -- child's latest referral on or before the plan started) and whether it is a repeat plan.
    SELECT p.plan_id, p.child_id, p.start_date, p.end_date,
           coalesce(r.team_id, latest.team_id) AS team_id,
           p.start_date > min(p.start_date) OVER (PARTITION BY p.child_id) AS is_repeat
    FROM cp_plans AS p
    LEFT JOIN referrals AS r ON r.referral_id = p.referral_id
    -- Only the referrals of children with a CP plan take part in the as-of join (not all referrals).
    ASOF LEFT JOIN (
        SELECT child_id, referral_date, team_id FROM referrals
        WHERE child_id IN (SELECT child_id FROM cp_plans)
    ) AS latest ON latest.child_id = p.child_id AND latest.referral_date <= p.start_date
),
review_timeliness AS (
    SELECT pt.team_id, pt.child_id, pt.plan_id, v.review_date,
           CAST(CASE WHEN lag(v.review_date) OVER w IS NULL THEN pt.start_date + INTERVAL 3 MONTH
                     ELSE lag(v.review_date) OVER w + INTERVAL 6 MONTH END AS DATE) AS due_by
    FROM plan_teams AS pt
    JOIN cp_reviews AS v ON v.plan_id = pt.plan_id
    WINDOW w AS (PARTITION BY pt.plan_id ORDER BY v.review_date)
),
cp_review_timely AS (
    SELECT d.as_of, r.team_id, 'cp_review_timely', r.child_id, r.plan_id, r.review_date, r.due_by,
           r.review_date <= r.due_by
    FROM on_dates AS d
    JOIN review_timeliness AS r ON r.review_date > d.as_of - 365 AND r.review_date <= d.as_of
),
visits_in_timescale AS (
    SELECT as_of, team_id, 'visits_in_timescale', child_id, plan_type, last_visit_date, due_date, NOT is_overdue
    FROM plan_visit_status(dates, cp_wd, cin_wd, cla_days)
),
cpp_2_years AS (
    SELECT d.as_of, pt.team_id, 'cpp_2_years', pt.child_id, pt.plan_id, pt.start_date,
           CAST(d.as_of - INTERVAL 2 YEAR AS DATE), pt.start_date <= d.as_of - INTERVAL 2 YEAR
    FROM on_dates AS d
    JOIN plan_teams AS pt ON pt.start_date <= d.as_of AND (pt.end_date IS NULL OR pt.end_date > d.as_of)
),
repeat_cpp AS (
    SELECT d.as_of, pt.team_id, 'repeat_cpp', pt.child_id, pt.plan_id, pt.start_date, NULL::DATE, pt.is_repeat
    FROM on_dates AS d
    JOIN plan_teams AS pt ON pt.start_date > d.as_of - 365 AND pt.start_date <= d.as_of
)
SELECT * FROM assessment_45wd
UNION ALL SELECT * FROM icpc_15wd
UNION ALL SELECT * FROM cp_review_timely
UNION ALL SELECT * FROM visits_in_timescale
UNION ALL SELECT * FROM cpp_2_years
UNION ALL SELECT * FROM repeat_cpp;
