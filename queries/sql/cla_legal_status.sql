-- title: Looked-after children by legal status
-- description: Children in a period of care on as_of (an episode started on or before as_of and not
--   ended by it) by the SSDA903 legal status of that episode, with each status's share of them. A
--   last row (is_total) counts every child in care once. With a team, only children whose
--   open referral (not NFA) that team holds on as_of; an extract without a referrals table (an
--   SSDA903 return alone) links no child to a team, so a team's figures there are empty. Each status is
--   named with its code, "Full care order (C2)" (a bare code could read as a child's ID).
-- tables: looked_after
-- optional_tables: referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: children
-- derived: share <- children
-- param: as_of date = as_of ; children in care on this date
-- param: team_id str = null ; only children with an open referral held by this team
WITH in_care AS (
    -- One row per child: were two episodes open on the day, the later one's status.
    SELECT child_id, arg_max(legal_status, start_date) AS legal_status
    FROM looked_after
    WHERE start_date <= $as_of AND (end_date IS NULL OR end_date > $as_of)
      AND ($team_id IS NULL OR child_id IN (
            SELECT r.child_id FROM referrals AS r
            WHERE r.team_id = $team_id AND r.referral_date <= $as_of AND NOT r.nfa
              AND (r.closure_date IS NULL OR r.closure_date > $as_of)))
    GROUP BY child_id
),
by_status AS (
    SELECT CASE WHEN legal_status IS NULL THEN 'All children in care'
                ELSE code_label('legal_status', legal_status) || ' (' || legal_status || ')' END AS legal_status,
           count(*) AS children,
           grouping(legal_status) AS is_total
    FROM in_care
    GROUP BY ROLLUP (legal_status)
)
SELECT legal_status, children,
       CASE WHEN sum(children) FILTER (WHERE is_total = 1) OVER () > 0
            THEN children / sum(children) FILTER (WHERE is_total = 1) OVER () END AS share,
       is_total = 1 AS is_total
FROM by_status
ORDER BY is_total, children DESC, legal_status
