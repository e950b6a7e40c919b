-- title: Referrals by month
-- description: Referrals received in each calendar month, per team, for the months up to and
--   including as_of's month (which may be part of a month). Months with none show 0.
-- tables: referrals, teams
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: referrals
-- suppress_within: team_id
-- param: as_of date = as_of ; the last month shown is the one holding this date
-- param: months int = 60 ; how many months to show, ending with as_of's month
-- param: team_id str = null ; only this team
-- param: total bool = false ; one row per month for all teams together (team_id empty)
WITH month_list AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(
        date_trunc('month', $as_of) - to_months($months - 1),
        date_trunc('month', $as_of) + INTERVAL 1 MONTH,
        INTERVAL 1 MONTH
    ) AS t(m)
),
team_list AS (
    SELECT team_id FROM teams WHERE $team_id IS NULL OR team_id = $team_id
),
counts AS (
    SELECT date_trunc('month', referral_date) AS month, team_id, count(*) AS referrals
    FROM referrals
    WHERE referral_date <= $as_of
      AND referral_date >= date_trunc('month', $as_of) - to_months($months - 1)
      AND ($team_id IS NULL OR team_id = $team_id)
    GROUP BY ALL
),
by_team AS (
    SELECT m.month, t.team_id, coalesce(c.referrals, 0) AS referrals
    FROM month_list AS m
    CROSS JOIN team_list AS t
    LEFT JOIN counts AS c ON c.month = m.month AND c.team_id = t.team_id
)
SELECT month, team_id, referrals FROM by_team WHERE NOT $total
UNION ALL
SELECT month, NULL AS team_id, sum(referrals)::BIGINT AS referrals FROM by_team WHERE $total GROUP BY month
ORDER BY month, team_id
