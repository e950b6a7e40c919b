-- The items behind the two compliance measures that are a state on each date in `dates`, one row
-- per date and item (columns as compliance_items):
--   visits_in_timescale open plans on the date; met: the visit is not overdue (plan_visit_status)
--   cpp_2_years         CP plans open on the date; counted: started 2 years or more before it
CREATE OR REPLACE MACRO compliance_state(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
visits_in_timescale AS (
    SELECT as_of, team_id, 'visits_in_timescale' AS measure, child_id, plan_type AS item_id,
           last_visit_date AS item_date, due_date AS standard_date, NOT is_overdue AS met
    FROM plan_visit_status(dates, cp_wd, cin_wd, cla_days, NULL, NULL)
),
cpp_2_years AS (
    SELECT d.as_of, pt.team_id, 'cpp_2_years', pt.child_id, pt.plan_id, pt.start_date,
           CAST(d.as_of - INTERVAL 2 YEAR AS DATE), pt.start_date <= d.as_of - INTERVAL 2 YEAR
    FROM on_dates AS d
    JOIN cp_plan_teams AS pt ON pt.start_date <= d.as_of AND (pt.end_date IS NULL OR pt.end_date > d.as_of)
)
SELECT * FROM visits_in_timescale
UNION ALL SELECT * FROM cpp_2_years;
