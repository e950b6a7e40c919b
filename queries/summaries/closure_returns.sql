-- title: Each closed referral, and whether the child came back within a year
-- description: One row per closed referral (NFA included: closing with no further action is a
--   team's decision too): the team that held it when it closed, the
--   closure date, and returned_within_365 (the child had another referral, any, NFA included, dated
--   1 to 365 days after the closure). What a team's practice can change is whether its own closures
--   come back; a re-referral itself is counted against the team that receives the new referral.
--   Fixed once the referral is closed, so it is worked out once. Ordered by closure date.
-- tables: referrals
SELECT c.referral_id, c.team_id, c.closure_date,
       EXISTS (
           SELECT 1 FROM referrals AS x
           WHERE x.child_id = c.child_id
             AND x.referral_date > c.closure_date AND x.referral_date <= c.closure_date + 365
       ) AS returned_within_365
FROM referrals AS c
WHERE c.closure_date IS NOT NULL
ORDER BY c.closure_date
