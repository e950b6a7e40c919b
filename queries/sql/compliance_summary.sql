-- title: Compliance summary
-- description: For each team, the statutory timeliness measures and two DfE key indicators on
--   as_of, each as numerator, denominator and percentage: assessments within 45 working days,
--   ICPCs within 15 working days, CP reviews on time, visits in timescale (higher is better);
--   CP plans lasting 2 years or more and repeat CP plans (lower is better). Each with the council's
--   target (settings [compliance]) and a RAG: green meets it, amber misses it by no more than
--   rag_amber_points percentage points, red by more; no RAG where there is nothing to measure.
-- tables: teams, referrals, assessments
-- optional_tables: section47, cp_plans, cp_reviews, cin_plans, looked_after, visits
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: numerator, denominator
-- derived: pct <- numerator, denominator
-- derived: rag <- numerator, denominator
-- suppress_within: measure
-- param: as_of date = as_of ; the date measures are judged on (timeliness over the 12 months to it)
-- param: team_id str = null ; only this team
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
-- param: target_visits_in_timescale float = setting ; target, % of open plans with visits in timescale
-- param: target_assessment_45wd float = setting ; target, % of assessments within 45 working days
-- param: target_icpc_15wd float = setting ; target, % of ICPCs within 15 working days
-- param: target_cp_review_timely float = setting ; target, % of CP reviews on time
-- param: target_cpp_2_years float = setting ; target, at most this % of CP plans open 2 years or more
-- param: target_repeat_cpp float = setting ; target, at most this % of CP plans a repeat
-- param: rag_amber_points float = setting ; amber: missing the target by at most this many points
WITH targets(measure, target) AS (
    VALUES ('visits_in_timescale', $target_visits_in_timescale), ('assessment_45wd', $target_assessment_45wd),
           ('icpc_15wd', $target_icpc_15wd), ('cp_review_timely', $target_cp_review_timely),
           ('cpp_2_years', $target_cpp_2_years), ('repeat_cpp', $target_repeat_cpp)
)
SELECT
    m.team_id, m.measure, m.numerator, m.denominator, m.pct, m.label, m.higher_is_better, t.target,
    CASE
        WHEN m.pct IS NULL OR t.target IS NULL THEN NULL
        WHEN (CASE WHEN m.higher_is_better THEN t.target - m.pct ELSE m.pct - t.target END) <= 0 THEN 'green'
        WHEN (CASE WHEN m.higher_is_better THEN t.target - m.pct ELSE m.pct - t.target END) <= $rag_amber_points
            THEN 'amber'
        ELSE 'red'
    END AS rag
FROM compliance_measures([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days) AS m
LEFT JOIN targets AS t ON t.measure = m.measure
WHERE $team_id IS NULL OR m.team_id = $team_id
ORDER BY m.team_id, m.measure_order
