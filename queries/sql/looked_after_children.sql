-- title: Looked-after children
-- description: Children in a period of care on as_of (an episode started on or before as_of and
--   not ended by it). With a team, only children whose open referral (not NFA) that team holds on
--   as_of. The SSDA903 return has no teams: an extract without a referrals table links no child to
--   a team, so a team's figure there is 0 (the whole council's figure needs no referrals).
-- tables: looked_after
-- optional_tables: referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager, social_worker
-- counts: looked_after_children
-- param: as_of date = as_of ; the date the figures are judged on
-- param: team_id str = null ; only children with an open referral held by this team
SELECT count(DISTINCT e.child_id) AS looked_after_children
FROM looked_after AS e
WHERE e.start_date <= $as_of
  AND (e.end_date IS NULL OR e.end_date > $as_of)
  AND ($team_id IS NULL OR e.child_id IN (
        SELECT r.child_id FROM referrals AS r
        WHERE r.team_id = $team_id AND r.referral_date <= $as_of AND NOT r.nfa
          AND (r.closure_date IS NULL OR r.closure_date > $as_of)))
