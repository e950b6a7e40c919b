-- title: The children of a case-file audit's cohort
-- description: Every child of a cohort (the Patterns cohort filters; with none, every child with a non-NFA
--   referral on or before as_of) with the stratum the child falls in, ordered by child_id: the list a
--   case-file audit draws its random sample from (python -m workbench audit create; docs/workbench.md).
--   The stratum is the child's sex, age band on as_of or DfE ethnicity group, or 'all' when not stratified.
-- tables: children, referrals, teams
-- optional_tables: cp_plans
-- access: child-level
-- roles: analyst
-- param: as_of date = as_of ; referrals and CP plans on or before this date count; ages are on this date
-- param: team_id str = null ; cohort: children with a (non-NFA) referral held by this team
-- param: team_focus str = null ; cohort: children with a referral held by a team with this focus
-- param: cp_category str = null ; cohort: children with a CP plan of this category | choices: NEG, PHY, SAB, EMO, MUL
-- param: primary_need str = null ; cohort: children with a referral with this primary need | choices: N0, N1, N2, N3, N4, N5, N6, N7, N8, N9
-- param: age_band str = null ; cohort: age on the date of a matching referral | choices: unborn, under 1, 1-4, 5-9, 10-15, 16+
-- param: sex str = null ; cohort: children of this sex | choices: M, F, U
-- param: ethnicity_group str = null ; cohort: DfE ethnicity group | choices: White, Mixed, Asian, Black, Other, Not known
-- param: from_date date = null ; only referrals on or after this date define the population
-- param: to_date date = null ; only referrals on or before this date define the population
-- param: stratify_by str = null ; the strata of the sample (none: one stratum, 'all') | choices: sex, age_band, ethnicity_group
SELECT m.child_id,
       CASE $stratify_by
           WHEN 'sex' THEN c.sex
           WHEN 'age_band' THEN age_band(c.birth_date, $as_of)
           WHEN 'ethnicity_group' THEN ethnicity_group(c.ethnicity)
           ELSE 'all'
       END AS stratum
FROM cohort_members($as_of, $from_date, $to_date, $team_id, $team_focus, $primary_need, $age_band,
                    $sex, $ethnicity_group, $cp_category) AS m
JOIN children AS c ON c.child_id = m.child_id
ORDER BY m.child_id
