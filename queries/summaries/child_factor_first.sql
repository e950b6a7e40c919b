-- title: Each factor of each child, first recorded
-- description: One row per child and factor code: the first date it was recorded, and the child's
--   first non-NFA referral (child_first_referral, null when none). A child had a factor on a date
--   when first_recorded is on or before it, so the pattern pages count distinct children per factor
--   from this table without de-duplicating the factors table on every question.
-- tables: factors, referrals
SELECT f.child_id, f.factor_code, min(f.recorded_date) AS first_recorded,
       any_value(r.first_open_referral) AS first_open_referral
FROM factors AS f
LEFT JOIN child_first_referral AS r ON r.child_id = f.child_id
WHERE f.recorded_date IS NOT NULL
GROUP BY f.child_id, f.factor_code
