-- title: NEET: each child's first CIN plan, CP plan, period of care and parental factors
-- description: One row per child with any of them: the start of the first child in need plan
--   (first_cin_plan), child protection plan (first_cp_plan) and period of care (first_looked_after),
--   and the date the parental factors domestic abuse (3B), mental health (4B) and substance misuse
--   (1B or 2B) were first recorded; null when never. A child had one by a date when it is on or before it.
-- tables: cin_plans, cp_plans, looked_after, factors, referrals
SELECT child_id,
       min(start_date) FILTER (WHERE kind = 'cin') AS first_cin_plan,
       min(start_date) FILTER (WHERE kind = 'cp') AS first_cp_plan,
       min(start_date) FILTER (WHERE kind = 'la') AS first_looked_after,
       min(start_date) FILTER (WHERE kind = '3B') AS first_domestic_abuse,
       min(start_date) FILTER (WHERE kind = '4B') AS first_mental_health,
       min(start_date) FILTER (WHERE kind IN ('1B', '2B')) AS first_substance_misuse
FROM (
    SELECT child_id, start_date, 'cin' AS kind FROM cin_plans
    UNION ALL SELECT child_id, start_date, 'cp' FROM cp_plans
    UNION ALL SELECT child_id, start_date, 'la' FROM looked_after
    UNION ALL SELECT child_id, first_recorded, factor_code FROM child_factor_first
    WHERE factor_code IN ('3B', '4B', '1B', '2B')
)
GROUP BY child_id
