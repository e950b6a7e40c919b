-- The DfE headline NEET outcome, one row per young person whose window has closed by as_of and holds a
-- status: NEET or activity not known at academic age 16-17, i.e. any status recorded from 1 September of
-- Year 12 (outcome_from) to the end of February of Year 13 (outcome_to) that is NEET or 'unknown' (neet);
-- neet_only: any NEET status in that window. Year 12 begins on 1 September of year_12 (the young person
-- is 16 on the 31 August before it). Used by the NEET model (neet_features) and the hypotheses register.
CREATE OR REPLACE MACRO neet_outcomes(as_of) AS TABLE
WITH young AS (
    SELECT child_id,
           make_date(year_12, 9, 1) AS outcome_from,
           CAST(make_date(year_12 + 2, 3, 1) - INTERVAL 1 DAY AS DATE) AS outcome_to
    FROM (
        SELECT child_id, year(birth_date) + 16 + CASE WHEN strftime(birth_date, '%m%d') > '0831' THEN 1 ELSE 0 END
                   AS year_12
        FROM children
        WHERE birth_date IS NOT NULL
    )
)
SELECT y.child_id, y.outcome_to,
       bool_or(s.status IN ('NEET', 'unknown')) AS neet, bool_or(s.status = 'NEET') AS neet_only
FROM young AS y
JOIN neet_status AS s ON s.child_id = y.child_id
     AND s.recorded_date BETWEEN y.outcome_from AND y.outcome_to AND s.recorded_date <= as_of
WHERE y.outcome_to <= as_of
GROUP BY y.child_id, y.outcome_to
