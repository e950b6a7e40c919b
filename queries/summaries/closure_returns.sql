-- title: Each closed referral, and whether the child came back within a year
-- description: One row per closed referral (NFA included: closing with no further action is a
--   team's decision too): the team that held it when it closed, the
--   closure date, and returned_within_365 (the child had another referral, any, NFA included, dated
--   1 to 365 days after the closure). What a team's practice can change is whether its own closures
--   come back; a re-referral itself is counted against the team that receives the new referral.
--   Fixed once the referral is closed, so it is worked out once. Ordered by closure date.
-- tables: referrals
-- Each closure meets its child's referral dates as one list (a hash join) rather than a search of the
-- child's referrals per row: the same answers in about two thirds of the time on the national extract.
WITH referral_dates AS (
    SELECT child_id, list(referral_date) AS dates FROM referrals GROUP BY child_id
)
SELECT c.referral_id, c.team_id, c.closure_date,
       coalesce(len(list_filter(r.dates, lambda d: d > c.closure_date AND d <= c.closure_date + 365)) > 0, false)
           AS returned_within_365
FROM referrals AS c
LEFT JOIN referral_dates AS r ON r.child_id = c.child_id
WHERE c.closure_date IS NOT NULL
ORDER BY c.closure_date
