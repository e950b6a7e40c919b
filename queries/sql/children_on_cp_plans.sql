-- title: Children on child protection plans
-- description: Children with a child protection plan open on as_of (started on or before as_of
--   and not ended by it). With a team, only children whose open referral that team holds.
-- tables: cp_plans, referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
-- counts: children_on_cp_plans
-- param: as_of date = as_of ; the date the figures are judged on
-- param: team_id str = null ; only children with an open referral held by this team
SELECT count(DISTINCT p.child_id) AS children_on_cp_plans
FROM cp_plans AS p
WHERE p.start_date <= $as_of
  AND (p.end_date IS NULL OR p.end_date > $as_of)
  AND ($team_id IS NULL OR p.child_id IN (
        SELECT r.child_id FROM referrals AS r
        WHERE r.team_id = $team_id AND r.referral_date <= $as_of AND NOT r.nfa
          AND (r.closure_date IS NULL OR r.closure_date > $as_of)))
