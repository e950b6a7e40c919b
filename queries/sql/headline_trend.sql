-- title: Headline figures month by month
-- description: The headline figures at the end of each of the last `months` months, the last point
--   being as_of itself: children with an open case, on a child protection plan and looked after on
--   that day; referrals received in that calendar month; and the re-referral rate over the 12 months
--   to that day (DfE definition, as rereferral_rate). With a team, only that team's referrals, and the
--   children whose open referral it holds on that day. The board summary's trends.
-- tables: referrals, cp_plans, teams
-- optional_tables: looked_after
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: open_cases
-- counts: children_on_cp_plans
-- counts: looked_after_children
-- counts: referrals_in_month
-- counts: referrals_12_months, rereferrals_12_months
-- derived: rereferral_rate <- rereferrals_12_months, referrals_12_months
-- param: as_of date = as_of ; the last day shown
-- param: months int = 12 ; how many points: the ends of the months before as_of's month, then as_of
-- param: team_id str = null ; only this team
WITH days AS (
    SELECT CAST(least(last_day(CAST(m AS DATE)), $as_of) AS DATE) AS day
    FROM range(
        date_trunc('month', $as_of) - to_months($months - 1),
        date_trunc('month', $as_of) + INTERVAL 1 MONTH,
        INTERVAL 1 MONTH
    ) AS t(m)
),
open_referrals AS (
    SELECT d.day, r.child_id
    FROM days AS d
    JOIN referrals AS r
      ON r.referral_date <= d.day AND NOT r.nfa AND (r.closure_date IS NULL OR r.closure_date > d.day)
    WHERE $team_id IS NULL OR r.team_id = $team_id
),
open_cases AS (
    SELECT day, count(DISTINCT child_id) AS open_cases FROM open_referrals GROUP BY day
),
cp AS (
    SELECT d.day, count(DISTINCT p.child_id) AS children_on_cp_plans
    FROM days AS d
    JOIN cp_plans AS p ON p.start_date <= d.day AND (p.end_date IS NULL OR p.end_date > d.day)
    WHERE $team_id IS NULL OR (d.day, p.child_id) IN (SELECT (day, child_id) FROM open_referrals)
    GROUP BY d.day
),
cla AS (
    SELECT d.day, count(DISTINCT e.child_id) AS looked_after_children
    FROM days AS d
    JOIN looked_after AS e ON e.start_date <= d.day AND (e.end_date IS NULL OR e.end_date > d.day)
    WHERE $team_id IS NULL OR (d.day, e.child_id) IN (SELECT (day, child_id) FROM open_referrals)
    GROUP BY d.day
),
received AS (
    SELECT d.day,
        count(*) FILTER (WHERE date_trunc('month', r.referral_date) = date_trunc('month', d.day)) AS referrals_in_month,
        count(*) AS referrals_12_months,
        count(*) FILTER (WHERE r.is_rereferral) AS rereferrals_12_months
    FROM days AS d
    JOIN referral_facts AS r ON r.referral_date > d.day - 365 AND r.referral_date <= d.day
    WHERE $team_id IS NULL OR r.team_id = $team_id
    GROUP BY d.day
)
SELECT
    d.day,
    coalesce(o.open_cases, 0) AS open_cases,
    coalesce(c.children_on_cp_plans, 0) AS children_on_cp_plans,
    coalesce(l.looked_after_children, 0) AS looked_after_children,
    coalesce(r.referrals_in_month, 0) AS referrals_in_month,
    coalesce(r.referrals_12_months, 0) AS referrals_12_months,
    coalesce(r.rereferrals_12_months, 0) AS rereferrals_12_months,
    CASE WHEN r.referrals_12_months > 0 THEN r.rereferrals_12_months / r.referrals_12_months END AS rereferral_rate
FROM days AS d
LEFT JOIN open_cases AS o USING (day)
LEFT JOIN cp AS c USING (day)
LEFT JOIN cla AS l USING (day)
LEFT JOIN received AS r USING (day)
ORDER BY d.day
