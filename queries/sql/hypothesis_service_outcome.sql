-- title: A hypothesis's service outcome in one cohort and period
-- description: For a register hypothesis with the outcome "a service's success" (docs/workbench.md): of the
--   children of a cohort (the Patterns cohort filters: a non-NFA referral dated in the period from_date to
--   to_date), those whose first episode of the service (service_id; any commissioned service when null)
--   that started in the period is assessable (children), and of them those for whom it succeeded
--   (with_outcome), by the Services definitions: assessable when its referral closed at least 365 days
--   before as_of and a new referral could have been recorded here (not when the child died, moved away or
--   to adult services, or turned 18 within the year); a success when the child had no new referral within
--   365 days of that closure ("no new referral within a year", not "worked").
-- tables: children, referrals, teams, service_episodes, services
-- optional_tables: cp_plans
-- access: aggregate
-- roles: analyst
-- counts: children, with_outcome
-- param: as_of date = as_of ; referrals, episodes and CP plans on or before this date count
-- param: from_date date = null ; the period's first day (default: no earlier limit)
-- param: to_date date = as_of ; the period's last day
-- param: service_id str = null ; the service (default: any commissioned service)
-- param: team_id str = null ; cohort: children with a (non-NFA) referral held by this team
-- param: team_focus str = null ; cohort: children with a referral held by a team with this focus
-- param: cp_category str = null ; cohort: children with a CP plan of this category | choices: NEG, PHY, SAB, EMO, MUL
-- param: primary_need str = null ; cohort: children with a referral with this primary need | choices: N0, N1, N2, N3, N4, N5, N6, N7, N8, N9
-- param: age_band str = null ; cohort: age on the date of a matching referral | choices: unborn, under 1, 1-4, 5-9, 10-15, 16+
-- param: sex str = null ; cohort: children of this sex | choices: M, F, U
-- param: ethnicity_group str = null ; cohort: DfE ethnicity group | choices: White, Mixed, Asian, Black, Other, Not known
WITH members AS (
    SELECT child_id
    FROM cohort_members($as_of, $from_date, $to_date, $team_id, $team_focus, $primary_need, $age_band,
                        $sex, $ethnicity_group, $cp_category)
),
first_episode AS (
    SELECT child_id, NOT rereferred_within_365 AS success,
           row_number() OVER (PARTITION BY child_id ORDER BY start_date, service_episode_id) AS n
    FROM service_episode_facts
    WHERE child_id IS NOT NULL
      AND ($service_id IS NULL OR service_id = $service_id)
      AND start_date <= $as_of
      AND ($from_date IS NULL OR start_date >= $from_date)
      AND start_date <= $to_date
      AND referral_closure_date <= $as_of - 365
      AND NOT cannot_be_judged
)
SELECT count(*) AS children, count(*) FILTER (WHERE e.success) AS with_outcome
FROM members AS m
JOIN first_episode AS e ON e.child_id = m.child_id AND e.n = 1
