-- Compliance measures on each date in `dates`, per team: compliance_items counted. For the four
-- timeliness measures the numerator is the items that met the standard (higher is better); for
-- the two DfE key indicators, cpp_2_years and repeat_cpp, it is the plans that count against
-- the team (lower is better). Every team gets every measure (0 of 0 when nothing applied).
CREATE OR REPLACE MACRO compliance_measures(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
measured AS (
    SELECT as_of, team_id, measure, count(*) FILTER (WHERE met) AS numerator, count(*) AS denominator
    FROM compliance_items(dates, cp_wd, cin_wd, cla_days)
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
