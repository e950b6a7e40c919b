-- title: NEET: each child's latest school year that counts
-- description: One row per child with a school year that counts for the NEET model (neet_school_years:
--   15 or younger on 31 August, Year 11 or earlier): the latest of them, with the date it began
--   (latest_year_start) and its columns named latest_*. A young person still to come is scored on it
--   when it began on or before the date a question is asked on.
-- tables: children, education
WITH latest AS (
    SELECT child_id, arg_max(s, academic_year) AS s
    FROM neet_school_years AS s
    GROUP BY child_id
)
SELECT child_id, s.year_start AS latest_year_start, s.academic_year AS latest_academic_year,
       s.attendance_pct AS latest_attendance_pct, s.suspensions AS latest_suspensions,
       s.permanent_exclusion AS latest_permanent_exclusion, s.sen AS latest_sen, s.fsm AS latest_fsm,
       s.eal AS latest_eal, s.alternative_provision AS latest_alternative_provision,
       s.young_carer AS latest_young_carer, s.young_parent AS latest_young_parent, s.yot AS latest_yot
FROM latest
