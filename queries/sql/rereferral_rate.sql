-- title: Re-referral rate
-- description: Of the referrals in the 12 months to as_of, the share that were re-referrals: the
--   child had another referral 1 to 365 days before (any referral counts, NFA included). DfE
--   definition; England was 22% in 2024.
-- tables: referrals
-- param: as_of date = as_of ; the end of the 12 months
-- param: team_id str = null ; only referrals held by this team
WITH recent AS (
    SELECT referral_id, child_id, referral_date
    FROM referrals
    WHERE referral_date > $as_of - 365
      AND referral_date <= $as_of
      AND ($team_id IS NULL OR team_id = $team_id)
),
flagged AS (
    SELECT
        r.referral_id,
        EXISTS (
            SELECT 1 FROM referrals AS earlier
            WHERE earlier.child_id = r.child_id
              AND earlier.referral_date < r.referral_date
              AND earlier.referral_date >= r.referral_date - 365
        ) AS is_rereferral
    FROM recent AS r
)
SELECT
    count(*) AS referrals,
    count(*) FILTER (WHERE is_rereferral) AS rereferrals,
    CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE is_rereferral) / count(*) END AS rereferral_rate
FROM flagged
