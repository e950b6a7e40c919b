-- The items behind each compliance measure on each date in `dates`, one row per item, with
-- whether it met the standard (the query contract's definitions): the 12-month measures'
-- events (compliance_events) that fall in the 12 months to the date, and the state measures
-- (compliance_state). Team: the referral's team (assessments, S47s, plans with a referral); a
-- plan without one takes the team of the child's latest referral on or before the plan started.
CREATE OR REPLACE MACRO compliance_items(dates, cp_wd, cin_wd, cla_days) AS TABLE
WITH on_dates AS (
    SELECT DISTINCT unnest(dates)::DATE AS as_of
),
date_range AS (
    SELECT min(as_of) AS first_date, max(as_of) AS last_date FROM on_dates
)
SELECT d.as_of, e.team_id, e.measure, e.child_id, e.item_id, e.item_date, e.standard_date, e.met
FROM on_dates AS d
JOIN compliance_events((SELECT first_date FROM date_range), (SELECT last_date FROM date_range)) AS e
    ON e.item_date > d.as_of - 365 AND e.item_date <= d.as_of
UNION ALL
SELECT * FROM compliance_state(dates, cp_wd, cin_wd, cla_days);
