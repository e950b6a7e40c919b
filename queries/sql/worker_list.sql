-- title: Workers
-- description: Every worker with their team, role, FTE and agency flag, and whether they are in
--   post on as_of, for choosing a worker on a page.
-- tables: workers
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
-- param: as_of date = as_of ; the date "in post" is judged on
-- param: team_id str = null ; only this team's workers
SELECT worker_id, worker_name, team_id, role, fte, agency,
       (start_date <= $as_of AND (end_date IS NULL OR end_date >= $as_of)) AS in_post
FROM workers
WHERE $team_id IS NULL OR team_id = $team_id
ORDER BY team_id, worker_name NULLS LAST, worker_id
