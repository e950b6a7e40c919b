-- title: A hypothesis's outcome in one cohort and period
-- description: For a register hypothesis (python -m workbench hypothesis run; docs/workbench.md): the
--   children of a cohort (the Patterns cohort filters: a non-NFA referral dated in the period from_date to
--   to_date) and how many of them had the outcome. rereferral: a referral of the child dated in the period
--   (NFA included, as in the DfE re-referral definition) followed by another referral of the same child 1 to
--   365 days later. factor: the child has factor_code recorded (factors.recorded_date) in the period.
--   closed: the child's first non-NFA referral in the period that matches the cohort's referral filters
--   (team, team focus, primary need, age band) was closed within within_days days of its referral date
--   (closure on or before as_of; NFA referrals are not cases and are left out).
-- tables: children, referrals, teams
-- optional_tables: cp_plans, factors
-- access: aggregate
-- roles: analyst
-- counts: children, with_outcome
-- param: as_of date = as_of ; referrals and CP plans on or before this date count
-- param: from_date date = null ; the period's first day (default: no earlier limit)
-- param: to_date date = as_of ; the period's last day
-- param: outcome str = rereferral ; what is counted | choices: rereferral, factor, closed
-- param: factor_code str = null ; with outcome factor: the factor's code (e.g. 3B)
-- param: within_days int = 182 ; with outcome closed: closed within this many days of the referral
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
rereferred AS (
    SELECT DISTINCT first_referral.child_id
    FROM referrals AS first_referral
    JOIN referrals AS later
      ON later.child_id = first_referral.child_id
     AND later.referral_date > first_referral.referral_date
     AND later.referral_date <= first_referral.referral_date + 365
     AND later.referral_date <= $as_of
    WHERE ($from_date IS NULL OR first_referral.referral_date >= $from_date)
      AND first_referral.referral_date <= $to_date
),
first_case AS (
    SELECT r.child_id, r.referral_date, r.closure_date,
           row_number() OVER (PARTITION BY r.child_id ORDER BY r.referral_date, r.referral_id) AS n
    FROM referrals AS r
    JOIN teams AS t ON t.team_id = r.team_id
    JOIN children AS c ON c.child_id = r.child_id
    WHERE NOT r.nfa
      AND r.referral_date <= $as_of
      AND ($from_date IS NULL OR r.referral_date >= $from_date)
      AND r.referral_date <= $to_date
      AND ($team_id IS NULL OR r.team_id = $team_id)
      AND ($team_focus IS NULL OR t.focus = $team_focus)
      AND ($primary_need IS NULL OR r.primary_need = $primary_need)
      AND ($age_band IS NULL OR age_band(c.birth_date, r.referral_date) = $age_band)
),
closed_in_time AS (
    SELECT child_id
    FROM first_case
    WHERE n = 1 AND closure_date <= $as_of AND closure_date <= referral_date + $within_days::INTEGER
),
with_factor AS (
    SELECT DISTINCT child_id
    FROM factors
    WHERE factor_code = $factor_code
      AND ($from_date IS NULL OR recorded_date >= $from_date)
      AND recorded_date <= $to_date
      AND recorded_date <= $as_of
)
SELECT
    count(*) AS children,
    count(*) FILTER (WHERE CASE $outcome
        WHEN 'rereferral' THEN m.child_id IN (SELECT child_id FROM rereferred)
        WHEN 'factor' THEN m.child_id IN (SELECT child_id FROM with_factor)
        WHEN 'closed' THEN m.child_id IN (SELECT child_id FROM closed_in_time)
    END) AS with_outcome
FROM members AS m
