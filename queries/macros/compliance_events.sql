-- The events behind the four compliance measures that look back 12 months, each judged once
-- (its team, its standard date, whether it met the standard), dated between first_date - 365
-- and last_date. An event counts on a date when it falls in the 12 months to it: after
-- date - 365, on or before the date (compliance_items lists them, compliance_measures counts them).
--   assessment_45wd  assessments by authorised date; met: within 45 working days of the referral date
--   icpc_15wd        ICPCs by date held; met: within 15 working days of the strategy discussion
--   cp_review_timely CP review conferences; met: the first within 3 months of the plan start,
--                    later ones within 6 months of the previous one
--   repeat_cpp       CP plans by start date; counted: the child had an earlier CP plan
CREATE OR REPLACE MACRO compliance_events(first_date, last_date) AS TABLE
WITH assessments_judged AS (
    SELECT 'assessment_45wd' AS measure, a.team_id, a.child_id, a.assessment_id AS item_id,
           a.authorised_date AS item_date, deadline.d AS standard_date, a.authorised_date <= deadline.d AS met
    FROM referral_of_assessment AS a
    JOIN calendar AS start_day ON start_day.d = a.referral_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = start_day.wd_index + 45
    WHERE a.authorised_date > first_date - 365 AND a.authorised_date <= last_date
),
icpcs_judged AS (
    SELECT 'icpc_15wd', s.team_id, s.child_id, s.s47_id, s.icpc_date, deadline.d, s.icpc_date <= deadline.d
    FROM referral_of_section47 AS s
    JOIN calendar AS start_day ON start_day.d = s.strategy_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = start_day.wd_index + 15
    WHERE s.icpc_date > first_date - 365 AND s.icpc_date <= last_date
),
review_due AS (
    SELECT pt.team_id, pt.child_id, pt.plan_id, v.review_date,
           CAST(CASE WHEN lag(v.review_date) OVER w IS NULL THEN pt.start_date + INTERVAL 3 MONTH
                     ELSE lag(v.review_date) OVER w + INTERVAL 6 MONTH END AS DATE) AS due_by
    FROM cp_plan_teams AS pt
    JOIN cp_reviews AS v ON v.plan_id = pt.plan_id
    WINDOW w AS (PARTITION BY pt.plan_id ORDER BY v.review_date)
),
reviews_judged AS (
    SELECT 'cp_review_timely', team_id, child_id, plan_id, review_date, due_by, review_date <= due_by
    FROM review_due
    WHERE review_date > first_date - 365 AND review_date <= last_date
),
repeat_plans AS (
    SELECT 'repeat_cpp', team_id, child_id, plan_id, start_date, NULL::DATE, is_repeat
    FROM cp_plan_teams
    WHERE start_date > first_date - 365 AND start_date <= last_date
)
SELECT * FROM assessments_judged
UNION ALL SELECT * FROM icpcs_judged
UNION ALL SELECT * FROM reviews_judged
UNION ALL SELECT * FROM repeat_plans;
