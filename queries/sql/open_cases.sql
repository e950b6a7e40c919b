-- title: Open cases
-- description: Children with at least one open referral on as_of (referred on or before as_of,
--   not closed with no further action, and not closed by as_of), and the open referrals behind them.
-- tables: referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
-- counts: open_cases, open_referrals
-- param: as_of date = as_of ; the date the figures are judged on
-- param: team_id str = null ; only referrals held by this team
SELECT
    count(DISTINCT child_id) AS open_cases,
    count(*) AS open_referrals
FROM referrals
WHERE referral_date <= $as_of
  AND NOT nfa
  AND (closure_date IS NULL OR closure_date > $as_of)
  AND ($team_id IS NULL OR team_id = $team_id)
