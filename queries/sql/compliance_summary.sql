-- title: Compliance summary
-- description: For each team, the statutory timeliness measures and two DfE key indicators on
--   as_of, each as numerator, denominator and percentage: assessments within 45 working days,
--   ICPCs within 15 working days, CP reviews on time, visits in timescale (higher is better);
--   CP plans lasting 2 years or more and repeat CP plans (lower is better).
-- tables: teams, referrals, assessments
-- optional_tables: section47, cp_plans, cp_reviews, cin_plans, looked_after, visits
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: numerator, denominator
-- derived: pct <- numerator, denominator
-- suppress_within: measure
-- param: as_of date = as_of ; the date measures are judged on (timeliness over the 12 months to it)
-- param: team_id str = null ; only this team
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT team_id, measure, numerator, denominator, pct, label, higher_is_better
FROM compliance_measures([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days)
WHERE $team_id IS NULL OR team_id = $team_id
ORDER BY team_id, measure_order
