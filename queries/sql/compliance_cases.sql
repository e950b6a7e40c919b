-- title: Children behind a compliance measure
-- description: The items (assessments, ICPCs, reviews, open plans, CP plans) behind one
--   compliance measure for one team on as_of, one row each, with the child, the date that was
--   judged, the standard it was judged against, and whether it met it (for cpp_2_years and
--   repeat_cpp: whether it counts against the team). Those that missed come first.
-- tables: teams, referrals, assessments
-- optional_tables: section47, cp_plans, cp_reviews, cin_plans, looked_after, visits
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: as_of date = as_of ; the date the measure is judged on
-- param: team_id str ; the team
-- param: measure str = visits_in_timescale ; the measure | choices: assessment_45wd, icpc_15wd, cp_review_timely, visits_in_timescale, cpp_2_years, repeat_cpp
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT child_id, item_id, item_date, standard_date, met, team_id, measure
FROM compliance_items([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days)
WHERE team_id = $team_id AND measure = $measure
ORDER BY met = (measure NOT IN ('cpp_2_years', 'repeat_cpp')), item_date, child_id, item_id
