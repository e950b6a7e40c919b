-- title: Each referral, and whether it is a re-referral
-- description: One row per referral with its own columns and is_rereferral: the child had another
--   referral (any, NFA included) 1 to 365 days before it (DfE definition; a strictly earlier date).
--   Whether a referral is a re-referral does not depend on the date a question asks about, so it is
--   worked out once instead of matching every referral in a year against all the child's others.
--   Ordered by referral date, so a question about one year reads only that year's blocks.
-- tables: referrals
SELECT r.referral_id, r.child_id, r.referral_date, r.team_id, r.primary_need, r.nfa, r.closure_date,
       EXISTS (
           SELECT 1 FROM referrals AS earlier
           WHERE earlier.child_id = r.child_id
             AND earlier.referral_date < r.referral_date
             AND earlier.referral_date >= r.referral_date - 365
       ) AS is_rereferral
FROM referrals AS r
ORDER BY r.referral_date
