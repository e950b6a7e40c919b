-- title: NEET: the school years that count for each child
-- description: One row per education row of a school year in which the child was 15 or younger on
--   31 August (Year 11 or earlier): the years the NEET model's school features come from, with the
--   date the year began (year_start, 1 September) and the start of the child's latest such year
--   (last_year_start), so that a question asked before some children's latest school year picks out
--   those children's rows by a filter.
-- tables: children, education
SELECT e.child_id, e.academic_year, make_date(e.academic_year::INTEGER, 9, 1) AS year_start,
       max(make_date(e.academic_year::INTEGER, 9, 1)) OVER (PARTITION BY e.child_id) AS last_year_start,
       e.attendance_pct, e.suspensions, e.permanent_exclusion, e.sen, e.fsm, e.eal, e.alternative_provision,
       e.young_carer, e.young_parent, e.yot
FROM education AS e
JOIN children AS a ON a.child_id = e.child_id
WHERE date_diff('year', a.birth_date, make_date(e.academic_year::INTEGER, 8, 31))
      - CASE WHEN strftime(a.birth_date, '%m%d') > '0831' THEN 1 ELSE 0 END <= 15
