-- title: Overdue visits
-- description: Children on an open CP plan, CIN plan or in care on as_of whose statutory visit
--   is overdue: not seen within the local standard (settings.toml) of the later of the plan
--   start and the last visit of that type. Worst first.
-- tables: referrals, visits
-- optional_tables: cp_plans, cin_plans, looked_after
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: as_of date = as_of ; the date visits are judged on
-- param: team_id str = null ; only children whose case this team holds
-- param: worker_id str = null ; only children allocated to this worker
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT child_id, plan_type, worker_id, team_id, last_visit_date, due_date, working_days_overdue,
       plan_start, days_overdue
FROM plan_visit_status([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days, $team_id, $worker_id)
WHERE is_overdue
  AND ($team_id IS NULL OR team_id = $team_id)
  AND ($worker_id IS NULL OR worker_id = $worker_id)
ORDER BY working_days_overdue DESC, days_overdue DESC, child_id, plan_type
