-- title: Each referral, and whether it is a re-referral
-- description: One row per referral with its own columns and is_rereferral: the child had another
--   referral (any, NFA included) 1 to 365 days before it (DfE definition; a strictly earlier date).
--   Whether a referral is a re-referral does not depend on the date a question asks about, so it is
--   worked out once instead of matching every referral in a year against all the child's others.
--   Ordered by referral date, so a question about one year reads only that year's blocks.
-- tables: referrals
-- A window over each child's referrals in date order (365 to 1 days before) rather than a search of
-- the child's other referrals: the same answer, in about half the time on the national extract.
SELECT referral_id, child_id, referral_date, team_id, primary_need, nfa, closure_date,
       count(*) OVER (
           PARTITION BY child_id ORDER BY referral_date
           RANGE BETWEEN INTERVAL 365 DAYS PRECEDING AND INTERVAL 1 DAYS PRECEDING
       ) > 0 AS is_rereferral
FROM referrals
ORDER BY referral_date
