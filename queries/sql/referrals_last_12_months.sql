-- title: Referrals in the last 12 months
-- description: Referrals dated in the 12 months to as_of (after as_of minus 365 days, up to and
--   including as_of), the children they were about, and how many closed with no further action.
-- tables: referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: referrals, children, nfa_referrals
-- param: as_of date = as_of ; the end of the 12 months
-- param: team_id str = null ; only referrals held by this team
SELECT
    count(*) AS referrals,
    count(DISTINCT child_id) AS children,
    count(*) FILTER (WHERE nfa) AS nfa_referrals
FROM referrals
WHERE referral_date > $as_of - 365
  AND referral_date <= $as_of
  AND ($team_id IS NULL OR team_id = $team_id)
