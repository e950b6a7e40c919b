-- title: Caseload by worker
-- description: For each worker in post on as_of (and anyone still holding open cases): the
--   children with an open referral allocated to them, how many are on a CP plan, a CIN plan or
--   looked after, their FTE, cases per FTE (national average 16.0) and overdue visits (unknown,
--   not 0, when the extract has no visits table).
-- tables: workers, referrals
-- optional_tables: cp_plans, cin_plans, looked_after, visits
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
-- counts: open_cases
-- counts: cp_cases, cin_cases, cla_cases
-- counts: overdue_visits
-- derived: cases_per_fte <- open_cases
-- param: as_of date = as_of ; the date caseloads are counted on
-- param: team_id str = null ; only workers in this team
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT *
FROM worker_caseload($as_of, $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days)
WHERE $team_id IS NULL OR team_id = $team_id
ORDER BY team_id, open_cases DESC, worker_id
