-- title: A hypothesis's NEET outcome in one cohort and period
-- description: For a register hypothesis with the outcome NEET (docs/workbench.md): of the children of a
--   cohort (the Patterns cohort filters: a non-NFA referral dated in the period from_date to to_date), those
--   whose NEET outcome is known on as_of (children: the window from 1 September of Year 12 to the end of
--   February of Year 13 has closed and holds a status), and of them those NEET or whose activity was not
--   known at academic age 16-17 (with_outcome; the DfE headline measure, as on the NEET page).
-- tables: children, referrals, teams, neet_status
-- optional_tables: cp_plans
-- access: aggregate
-- roles: analyst
-- counts: children, with_outcome
-- param: as_of date = as_of ; referrals, statuses and CP plans on or before this date count
-- param: from_date date = null ; the period's first day (default: no earlier limit)
-- param: to_date date = as_of ; the period's last day
-- param: team_id str = null ; cohort: children with a (non-NFA) referral held by this team
-- param: team_focus str = null ; cohort: children with a referral held by a team with this focus
-- param: cp_category str = null ; cohort: children with a CP plan of this category | choices: NEG, PHY, SAB, EMO, MUL
-- param: primary_need str = null ; cohort: children with a referral with this primary need | choices: N0, N1, N2, N3, N4, N5, N6, N7, N8, N9
-- param: age_band str = null ; cohort: age on the date of a matching referral | choices: unborn, under 1, 1-4, 5-9, 10-15, 16+
-- param: sex str = null ; cohort: children of this sex | choices: M, F, U
-- param: ethnicity_group str = null ; cohort: DfE ethnicity group | choices: White, Mixed, Asian, Black, Other, Not known
SELECT count(*) AS children, count(*) FILTER (WHERE o.neet) AS with_outcome
FROM cohort_members($as_of, $from_date, $to_date, $team_id, $team_focus, $primary_need, $age_band,
                    $sex, $ethnicity_group, $cp_category) AS m
JOIN neet_outcomes($as_of) AS o ON o.child_id = m.child_id
