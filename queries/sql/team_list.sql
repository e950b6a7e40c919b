-- title: Teams
-- description: Every team in the extract with its service area, practice model and focus, for
--   choosing a team on a page.
-- tables: teams
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
SELECT team_id, team_name, service_area, practice_model, focus
FROM teams
ORDER BY team_name, team_id
