-- title: Each child's first referral that was not NFA
-- description: One row per child with at least one non-NFA referral: the date of the earliest.
--   A child is in the pattern pages' population on a date when this is on or before it, so the
--   population is counted without scanning every referral.
-- tables: referrals
SELECT child_id, min(referral_date) AS first_open_referral
FROM referrals
WHERE NOT nfa AND referral_date IS NOT NULL
GROUP BY child_id
