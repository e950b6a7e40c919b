-- title: NEET: each young person's first known status, with their school year and referrals by then
-- description: One row per child with a known status (EET or NEET; 'unknown' is not one): the date of
--   the first (outcome_date) and whether it was NEET (outcome_neet), the latest school year that counts
--   (neet_school_years) beginning on or before it (the school columns, null when none: such a young
--   person is in neither cohort) and the referrals dated on or before it (outcome_referrals). None of it
--   depends on the date a question is asked on: a young person is known on any date from outcome_date.
-- tables: children, education, neet_status, referrals
WITH first_known AS (
    SELECT child_id, min(recorded_date) AS outcome_date, arg_min(status, recorded_date) = 'NEET' AS outcome_neet
    FROM neet_status
    WHERE status IN ('EET', 'NEET') AND recorded_date IS NOT NULL
    GROUP BY child_id
),
school AS (
    SELECT k.child_id, arg_max(s, s.academic_year) AS s
    FROM first_known AS k
    JOIN neet_school_years AS s ON s.child_id = k.child_id AND s.year_start <= k.outcome_date
    GROUP BY k.child_id
),
referrals_by_then AS (
    SELECT k.child_id, count(*) AS n
    FROM first_known AS k
    JOIN referrals AS r ON r.child_id = k.child_id AND r.referral_date <= k.outcome_date
    GROUP BY k.child_id
)
SELECT k.child_id, k.outcome_date, k.outcome_neet, s.s.academic_year, s.s.attendance_pct, s.s.suspensions,
       s.s.permanent_exclusion, s.s.sen, s.s.fsm, s.s.eal, s.s.alternative_provision, s.s.young_carer,
       s.s.young_parent, s.s.yot, coalesce(r.n, 0) AS outcome_referrals
FROM first_known AS k
LEFT JOIN school AS s ON s.child_id = k.child_id
LEFT JOIN referrals_by_then AS r ON r.child_id = k.child_id
