-- title: NEET: the school years that count for each child
-- description: One row per education row of a school year in which the child was 15 or younger on
--   31 August (Year 11 or earlier): the years the NEET model's school features come from, with the
--   date the year began (year_start, 1 September) and the start of the child's latest such year
--   (last_year_start), so that a question asked before some children's latest school year picks out
--   those children's rows by a filter.
-- tables: children, education
WITH school_years AS (
    SELECT e.*, make_date(e.academic_year::INTEGER, 9, 1) AS year_start
    FROM education AS e
    JOIN children AS a ON a.child_id = e.child_id
    WHERE date_diff('year', a.birth_date, make_date(e.academic_year::INTEGER, 8, 31))
          - CASE WHEN strftime(a.birth_date, '%m%d') > '0831' THEN 1 ELSE 0 END <= 15
),
latest AS (
    SELECT child_id, max(year_start) AS last_year_start FROM school_years GROUP BY child_id
)
SELECT y.child_id, y.academic_year, y.year_start, l.last_year_start,
       y.attendance_pct, y.suspensions, y.permanent_exclusion, y.sen, y.fsm, y.eal, y.alternative_provision,
       y.young_carer, y.young_parent, y.yot
FROM school_years AS y
JOIN latest AS l ON l.child_id = y.child_id
