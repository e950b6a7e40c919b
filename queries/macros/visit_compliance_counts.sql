-- The visits_in_timescale measure counted per date and team, without listing each plan's last
-- visit: numerator, denominator as compliance_state's visits_in_timescale rows counted.
-- A plan's visit is not overdue on a date exactly when its base (the later of the plan start and
-- the last visit) is on or after met_since, the earliest base whose due date is not before the
-- date: the (k - 1)th working day before it (k = the standard; one more working day back when
-- the date is not a working day), or cla_days calendar days before it. So a plan meets the
-- standard when it started on or after met_since or had a visit of its type from met_since to
-- the date: only the visits of those few weeks are read, not every visit up to each date (for
-- a 12-month trend, 13.5 M plan-visit pairs). Team: the case holder, as in plan_visit_status.
-- tests/test_compliance_counts.py checks both give the same counts.
CREATE OR REPLACE MACRO visit_compliance_counts(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
standards AS (
    SELECT d.as_of, t.plan_type,
           CASE t.plan_type WHEN 'cla' THEN CAST(d.as_of - cla_days AS DATE) ELSE seq.d END AS met_since
    FROM on_dates AS d
    CROSS JOIN (VALUES ('cp'), ('cin'), ('cla')) AS t(plan_type)
    JOIN calendar AS c ON c.d = d.as_of
    LEFT JOIN working_day_seq AS seq
        ON seq.wd_index = c.wd_index - CASE t.plan_type WHEN 'cp' THEN cp_wd ELSE cin_wd END
                          + CASE WHEN c.is_working_day THEN 0 ELSE 1 END
),
plan_facts AS (
    -- Each open plan on each date, and each visit in the weeks that make a plan of its type met.
    SELECT s.as_of, p.child_id, p.plan_type, true AS is_plan, p.start_date >= s.met_since AS is_met
    FROM standards AS s
    JOIN (
        -- Only plans open at some point between the first and last date (not ten years of plans).
        SELECT * FROM statutory_plans()
        WHERE start_date <= (SELECT max(as_of) FROM on_dates)
          AND (end_date IS NULL OR end_date > (SELECT min(as_of) FROM on_dates))
    ) AS p ON p.plan_type = s.plan_type AND p.start_date <= s.as_of AND (p.end_date IS NULL OR p.end_date > s.as_of)
    UNION ALL
    SELECT s.as_of, v.child_id, v.visit_type, false, true
    FROM standards AS s
    JOIN visits AS v ON v.visit_type = s.plan_type AND v.visit_date >= s.met_since AND v.visit_date <= s.as_of
),
plan_children AS (
    -- One row per date and child with an open plan: how many plan types are open, and how many met.
    SELECT as_of, child_id,
           bool_or(is_plan AND plan_type = 'cp')::INT + bool_or(is_plan AND plan_type = 'cin')::INT
               + bool_or(is_plan AND plan_type = 'cla')::INT AS open_plans,
           (bool_or(is_plan AND plan_type = 'cp') AND bool_or(is_met AND plan_type = 'cp'))::INT
               + (bool_or(is_plan AND plan_type = 'cin') AND bool_or(is_met AND plan_type = 'cin'))::INT
               + (bool_or(is_plan AND plan_type = 'cla') AND bool_or(is_met AND plan_type = 'cla'))::INT AS met_plans
    FROM plan_facts
    GROUP BY as_of, child_id
    HAVING bool_or(is_plan)
),
held AS (
    -- Each of them with the case holder's team (plan_visit_status's rule), in the same pass.
    SELECT pc.as_of, pc.child_id, any_value(pc.open_plans) AS open_plans, any_value(pc.met_plans) AS met_plans,
           arg_max(r.team_id, {'is_open': NOT r.nfa AND (r.closure_date IS NULL OR r.closure_date > pc.as_of),
                               'referral_date': r.referral_date, 'referral_id': r.referral_id}) AS team_id
    FROM plan_children AS pc
    LEFT JOIN referral_holding AS r
        ON r.child_id = pc.child_id AND r.referral_date <= pc.as_of
       -- only referrals that can hold the case: open on the date, or the latest by then
       AND ((NOT r.nfa AND (r.closure_date IS NULL OR r.closure_date > pc.as_of))
            OR r.superseded_on IS NULL OR r.superseded_on > pc.as_of)
    GROUP BY pc.as_of, pc.child_id
)
SELECT as_of, team_id, CAST(sum(met_plans) AS BIGINT) AS numerator, CAST(sum(open_plans) AS BIGINT) AS denominator
FROM held
GROUP BY as_of, team_id;
