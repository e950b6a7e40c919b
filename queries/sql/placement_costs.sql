-- title: Placement costs of looked-after children
-- description: Children in a period of care on as_of (start_date <= as_of, end_date null or after it), by
--   SSDA903 placement type: children, episodes whose weekly cost is recorded or not, weekly spend (the sum
--   of recorded weekly costs), annual spend (weekly × 365/7 = 52.14 weeks) and the mean weekly cost of a
--   placement with a recorded cost. A last row, placement_type 'all', adds every type up. With a team,
--   only children whose open referral (not NFA) that team holds on as_of; an extract without a referrals
--   table (an SSDA903 return alone) links no child to a team, so a team's figures there are empty.
-- tables: looked_after
-- optional_tables: referrals
-- access: aggregate
-- roles: analyst, head_of_service, team_manager
-- counts: children
-- counts: cost_unknown
-- counts: episodes, with_cost
-- derived: weekly_spend <- children ; annual_spend <- children ; mean_weekly_cost <- children, with_cost
-- param: as_of date = as_of ; children in care on this date
-- param: team_id str = null ; only children with an open referral held by this team
WITH open_episodes AS (
    SELECT child_id, placement_type, weekly_cost
    FROM looked_after
    WHERE start_date <= $as_of AND (end_date IS NULL OR end_date > $as_of)
      AND ($team_id IS NULL OR child_id IN (
            SELECT r.child_id FROM referrals AS r
            WHERE r.team_id = $team_id AND r.referral_date <= $as_of AND NOT r.nfa
              AND (r.closure_date IS NULL OR r.closure_date > $as_of)))
),
by_type AS (
    SELECT coalesce(placement_type, 'all') AS placement_type,
           CASE WHEN placement_type IS NULL THEN 'All placements'
                ELSE code_label('placement_type', placement_type) END AS placement,
           CASE WHEN placement_type IS NULL THEN 'All'
                WHEN placement_type LIKE 'U%' OR placement_type IN ('Q1', 'Q2') THEN 'Foster care'
                WHEN placement_type IN ('K1', 'K2', 'R1', 'S1') THEN 'Children''s homes and residential'
                WHEN placement_type IN ('H5', 'P2') THEN 'Semi-independent or independent living'
                WHEN placement_type LIKE 'A%' THEN 'Placed for adoption'
                WHEN placement_type = 'P1' THEN 'Placed with parents'
                ELSE 'Other' END AS placement_group,
           count(DISTINCT child_id) AS children,
           count(*) AS episodes,
           count(weekly_cost) AS with_cost,
           count(*) - count(weekly_cost) AS cost_unknown,
           coalesce(sum(weekly_cost), 0.0) AS weekly_spend,
           coalesce(sum(weekly_cost), 0.0) * 365 / 7 AS annual_spend,
           avg(weekly_cost) AS mean_weekly_cost,
           grouping(placement_type) AS is_total
    FROM open_episodes
    GROUP BY ROLLUP (placement_type)
)
SELECT placement_type, placement, children, weekly_spend, annual_spend, mean_weekly_cost, episodes, with_cost,
       cost_unknown, placement_group
FROM by_type
ORDER BY is_total, weekly_spend DESC, placement_type
