-- title: Each closed episode of need: re-referral and factors by closure
-- description: One row per closed, non-NFA referral: rereferred_within_365 (the child had another
--   referral dated 1 to 365 days after the closure) and factors_by_closure (distinct factors, code 21
--   "no factors" not counted, first recorded on or before the closure). Both are fixed once the
--   referral is closed, so the service comparison reads them instead of working them out for
--   millions of referrals on every question.
-- tables: referrals, factors
WITH closed AS (
    SELECT referral_id, child_id, closure_date FROM referrals WHERE NOT nfa AND closure_date IS NOT NULL
),
factor_counts AS (
    SELECT c.referral_id, count(*) AS n
    FROM closed AS c
    JOIN child_factor_first AS f ON f.child_id = c.child_id
    WHERE f.first_recorded <= c.closure_date AND f.factor_code <> '21'
    GROUP BY c.referral_id
)
SELECT c.referral_id,
       EXISTS (
           SELECT 1 FROM referrals AS x
           WHERE x.child_id = c.child_id
             AND x.referral_date > c.closure_date AND x.referral_date <= c.closure_date + 365
       ) AS rereferred_within_365,
       coalesce(fc.n, 0) AS factors_by_closure
FROM closed AS c
LEFT JOIN factor_counts AS fc ON fc.referral_id = c.referral_id
