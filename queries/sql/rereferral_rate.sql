-- title: Re-referral rate
-- description: Of the referrals in the 12 months to as_of, the share that were re-referrals: the
--   child had another referral 1 to 365 days before (any referral counts, NFA included). DfE
--   definition; England was 22% in 2024.
-- tables: referrals, teams
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: referrals, rereferrals
-- derived: rereferral_rate <- rereferrals, referrals
-- param: as_of date = as_of ; the end of the 12 months
-- param: team_id str = null ; only referrals held by this team
SELECT
    count(*) AS referrals,
    count(*) FILTER (WHERE is_rereferral) AS rereferrals,
    CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE is_rereferral) / count(*) END AS rereferral_rate
FROM referral_flags($as_of)
WHERE $team_id IS NULL OR team_id = $team_id
