-- Compliance measures on each date in `dates`, per team: compliance_items counted. For the four
-- timeliness measures the numerator is the items that met the standard (higher is better); for
-- the two DfE key indicators, cpp_2_years and repeat_cpp, it is the plans that count against
-- the team (lower is better). Every team gets every measure (0 of 0 when nothing applied).
-- The 12-month measures are counted per segment between the dates and the dates less 365 days,
-- then each date sums the segments in its window, rather than listing each event once per date
-- (a 12-month trend would otherwise count every assessment twelve times). The two state measures
-- are counted by visit_compliance_counts and from cp_plan_teams, as compliance_state lists them.
CREATE OR REPLACE MACRO compliance_measures(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
date_range AS (
    SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM on_dates
),
cut_points AS (
    -- Each 12-month window (as_of - 365, as_of] is a run of whole segments between these points.
    SELECT as_of AS upto FROM on_dates
    UNION
    SELECT CAST(as_of - 365 AS DATE) FROM on_dates
),
segments AS (
    SELECT lag(upto) OVER (ORDER BY upto) AS after, upto FROM cut_points
),
segment_of_day AS (
    -- Every day events can fall on (first_date - 364 to last_date), with its segment: a join on the
    -- day is cheaper than matching each of millions of events against the segments' ranges.
    SELECT CAST(day AS DATE) AS day, g.upto
    FROM range((SELECT first_date FROM date_range) - 364, (SELECT last_date FROM date_range) + 1, INTERVAL 1 DAY) AS t(day)
    JOIN segments AS g ON CAST(t.day AS DATE) <= g.upto AND (g.after IS NULL OR CAST(t.day AS DATE) > g.after)
),
events_by_segment AS (
    SELECT e.measure, e.team_id, g.upto, count(*) AS n, count(*) FILTER (WHERE e.met) AS n_met
    FROM compliance_events((SELECT first_date FROM date_range), (SELECT last_date FROM date_range)) AS e
    JOIN segment_of_day AS g ON g.day = e.item_date
    WHERE e.team_id IS NOT NULL
    GROUP BY ALL
),
event_counts AS (
    SELECT d.as_of, s.team_id, s.measure,
           CAST(sum(s.n_met) AS BIGINT) AS numerator, CAST(sum(s.n) AS BIGINT) AS denominator
    FROM on_dates AS d
    JOIN events_by_segment AS s ON s.upto > d.as_of - 365 AND s.upto <= d.as_of
    GROUP BY ALL
),
measured AS (
    SELECT * FROM event_counts
    UNION ALL
    SELECT as_of, team_id, 'visits_in_timescale', numerator, denominator
    FROM visit_compliance_counts(dates, cp_wd, cin_wd, cla_days)
    UNION ALL
    SELECT d.as_of, pt.team_id, 'cpp_2_years', count(*) FILTER (WHERE pt.start_date <= d.as_of - INTERVAL 2 YEAR), count(*)
    FROM on_dates AS d
    JOIN cp_plan_teams AS pt ON pt.start_date <= d.as_of AND (pt.end_date IS NULL OR pt.end_date > d.as_of)
    GROUP BY ALL
),
measure_list AS (
    SELECT * FROM (VALUES
        (1, 'assessment_45wd', 'Assessments authorised within 45 working days', true, 'assessments'),
        (2, 'icpc_15wd', 'ICPCs within 15 working days of the strategy discussion', true, 'section47'),
        (3, 'cp_review_timely', 'CP reviews held on time', true, 'cp_reviews'),
        (4, 'visits_in_timescale', 'Open plans with visits in timescale', true, 'visits'),
        (5, 'cpp_2_years', 'CP plans open 2 years or more', false, 'cp_plans'),
        (6, 'repeat_cpp', 'CP plans that are a repeat plan', false, 'cp_plans')
    ) AS t(measure_order, measure, label, higher_is_better, needs_table)
)
SELECT d.as_of, t.team_id, m.measure,
       coalesce(x.numerator, 0) AS numerator,
       coalesce(x.denominator, 0) AS denominator,
       CASE WHEN x.denominator > 0 THEN round(100.0 * x.numerator / x.denominator, 1) END AS pct,
       m.label, m.higher_is_better, m.measure_order
FROM on_dates AS d
CROSS JOIN teams AS t
CROSS JOIN measure_list AS m
LEFT JOIN measured AS x ON x.as_of = d.as_of AND x.team_id = t.team_id AND x.measure = m.measure
-- A measure whose records the extract does not have (no visits table, say) is left out: not known, not 0%.
WHERE has_table(m.needs_table);
