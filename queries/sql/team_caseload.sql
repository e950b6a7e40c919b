-- title: Team caseload
-- description: For each team on as_of: workers in post, case-holding workers and their FTE, open
--   cases, cases per case-holding FTE (national average 16.0), agency workers, and overdue
--   visits (unknown, not 0, when the extract has no visits table). A case-holding worker is one
--   with at least one open case.
-- tables: teams, workers, referrals
-- optional_tables: cp_plans, cin_plans, looked_after, visits
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: open_cases
-- counts: overdue_visits
-- derived: cases_per_fte <- open_cases
-- param: as_of date = as_of ; the date caseloads are counted on
-- param: team_id str = null ; only this team
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT
    t.team_id,
    t.team_name,
    count(w.worker_id) FILTER (WHERE w.in_post) AS workers_in_post,
    count(w.worker_id) FILTER (WHERE w.open_cases > 0) AS case_holders,
    -- FTEs summed exactly (DECIMAL): a parallel floating-point sum can land either side of a rounding edge
    coalesce(CAST(sum(CAST(w.fte AS DECIMAL(18, 6))) FILTER (WHERE w.open_cases > 0) AS DOUBLE), 0) AS case_holding_fte,
    coalesce(sum(w.open_cases), 0)::BIGINT AS open_cases,
    round(sum(w.open_cases) / nullif(CAST(sum(CAST(w.fte AS DECIMAL(18, 6))) FILTER (WHERE w.open_cases > 0) AS DOUBLE), 0), 1)
        AS cases_per_fte,
    count(w.worker_id) FILTER (WHERE w.in_post AND w.agency) AS agency_workers,
    CASE WHEN has_table('visits') THEN coalesce(sum(w.overdue_visits), 0) END::BIGINT AS overdue_visits,
    t.practice_model,
    t.service_area
FROM teams AS t
LEFT JOIN worker_caseload($as_of, $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days) AS w
    ON w.team_id = t.team_id
WHERE $team_id IS NULL OR t.team_id = $team_id
GROUP BY ALL
ORDER BY t.team_name
