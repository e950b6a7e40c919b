-- title: Each closed episode of need: re-referral, factors known at the start, and whether it can be judged
-- description: One row per closed, non-NFA referral: rereferred_within_365 (the child had another
--   referral dated 1 to 365 days after the closure); factors_at_start (distinct factors, code 21
--   "no factors" not counted, first recorded on or before the referral's first authorised assessment,
--   or its referral date when it has none: what was known when services started, not what was found
--   by the closure); and cannot_be_judged (a new referral within a year could not be recorded here:
--   the child died (closure reason RC2), moved to another council (RC5) or to adult services (RC6),
--   or turned 18 within 365 days of the closure). All fixed once the referral is closed, so the
--   service comparison reads them instead of working them out for millions of referrals on every question.
-- tables: referrals, factors, children, assessments
WITH closed AS (
    SELECT r.referral_id, r.child_id, r.referral_date, r.closure_date, r.closure_reason, ch.birth_date
    FROM referrals AS r
    LEFT JOIN children AS ch ON ch.child_id = r.child_id
    WHERE NOT r.nfa AND r.closure_date IS NOT NULL
),
assessed AS (
    SELECT referral_id, min(authorised_date) AS assessed_on
    FROM assessments
    WHERE authorised_date IS NOT NULL
    GROUP BY referral_id
),
known_by AS (
    SELECT c.*, coalesce(a.assessed_on, c.referral_date) AS known_by
    FROM closed AS c
    LEFT JOIN assessed AS a ON a.referral_id = c.referral_id
),
factor_counts AS (
    SELECT k.referral_id, count(*) AS n
    FROM known_by AS k
    JOIN child_factor_first AS f ON f.child_id = k.child_id
    WHERE f.first_recorded <= k.known_by AND f.factor_code <> '21'
    GROUP BY k.referral_id
)
SELECT k.referral_id,
       cr.returned_within_365 AS rereferred_within_365,
       coalesce(fc.n, 0) AS factors_at_start,
       coalesce(k.closure_reason IN ('RC2', 'RC5', 'RC6'), false)
           OR coalesce(k.birth_date + INTERVAL 18 YEAR <= k.closure_date + 365, false) AS cannot_be_judged
FROM known_by AS k
LEFT JOIN factor_counts AS fc ON fc.referral_id = k.referral_id
-- closure_returns has every closed referral and the same rule (another referral 1 to 365 days after)
JOIN closure_returns AS cr ON cr.referral_id = k.referral_id
