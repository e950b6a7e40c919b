-- Compliance measures on each date in `dates`, per team: compliance_items counted. For the four
-- timeliness measures the numerator is the items that met the standard (higher is better); for
-- the two DfE key indicators, cpp_2_years and repeat_cpp, it is the plans that count against
-- the team (lower is better). Every team gets every measure (0 of 0 when nothing applied).
-- The 12-month measures are counted from running totals per team and event date (the total to
-- the date less the total to 365 days before), not by listing each event once per date: a
-- 12-month trend would otherwise count every assessment twelve times.
CREATE OR REPLACE MACRO compliance_measures(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
date_range AS (
    SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM on_dates
),
events_by_day AS (
    SELECT measure, team_id, item_date, count(*) AS n, count(*) FILTER (WHERE met) AS n_met
    FROM compliance_events((SELECT first_date FROM date_range), (SELECT last_date FROM date_range))
    WHERE team_id IS NOT NULL
    GROUP BY ALL
),
running AS (
    SELECT measure, team_id, item_date,
           CAST(sum(n) OVER w AS BIGINT) AS n_to_date, CAST(sum(n_met) OVER w AS BIGINT) AS met_to_date
    FROM events_by_day
    WINDOW w AS (PARTITION BY measure, team_id ORDER BY item_date ROWS UNBOUNDED PRECEDING)
),
event_counts AS (
    SELECT d.as_of, k.team_id, k.measure,
           coalesce(upto.met_to_date, 0) - coalesce(before.met_to_date, 0) AS numerator,
           coalesce(upto.n_to_date, 0) - coalesce(before.n_to_date, 0) AS denominator
    FROM on_dates AS d
    CROSS JOIN (SELECT DISTINCT measure, team_id FROM events_by_day) AS k
    ASOF LEFT JOIN running AS upto
        ON upto.measure = k.measure AND upto.team_id = k.team_id AND upto.item_date <= d.as_of
    ASOF LEFT JOIN running AS before
        ON before.measure = k.measure AND before.team_id = k.team_id AND before.item_date <= d.as_of - 365
),
measured AS (
    SELECT * FROM event_counts WHERE denominator > 0
    UNION ALL
    SELECT as_of, team_id, measure, count(*) FILTER (WHERE met), count(*)
    FROM compliance_state(dates, cp_wd, cin_wd, cla_days)
    GROUP BY ALL
),
measure_list AS (
    SELECT * FROM (VALUES
        (1, 'assessment_45wd', 'Assessments authorised within 45 working days', true),
        (2, 'icpc_15wd', 'ICPCs within 15 working days of the strategy discussion', true),
        (3, 'cp_review_timely', 'CP reviews held on time', true),
        (4, 'visits_in_timescale', 'Open plans with visits in timescale', true),
        (5, 'cpp_2_years', 'CP plans open 2 years or more', false),
        (6, 'repeat_cpp', 'CP plans that are a repeat plan', false)
    ) AS t(measure_order, measure, label, higher_is_better)
)
SELECT d.as_of, t.team_id, m.measure,
       coalesce(x.numerator, 0) AS numerator,
       coalesce(x.denominator, 0) AS denominator,
       CASE WHEN x.denominator > 0 THEN round(100.0 * x.numerator / x.denominator, 1) END AS pct,
       m.label, m.higher_is_better, m.measure_order
FROM on_dates AS d
CROSS JOIN teams AS t
CROSS JOIN measure_list AS m
LEFT JOIN measured AS x ON x.as_of = d.as_of AND x.team_id = t.team_id AND x.measure = m.measure;
