-- The children of a cohort, for pattern discovery. The population is every child with at least
-- one non-NFA referral on or before as_of (and, when from_date/to_date are given, dated in that
-- period). A child is in the cohort when at least one of those referrals matches every
-- referral filter given (team_id, team_focus, primary_need, and age_band: the child's age on that
-- referral's date) and the child matches every child filter given (sex, ethnicity_group, and
-- cp_category: a CP plan on or before as_of with that initial or latest category). A null filter
-- does not filter. Returns the cohort's children (child_id), every one of them in the population.
-- The child filters are checked on the children row each matching referral is joined to (a child
-- is one row of children), so only the few matching children are looked up, not every child.
CREATE OR REPLACE MACRO cohort_members(
    as_of, from_date, to_date, team_id_filter, team_focus, primary_need_filter, age_band_filter,
    sex_filter, ethnicity_group_filter, cp_category_filter
) AS TABLE
WITH qualifying AS (
    SELECT r.child_id, r.team_id, r.primary_need, r.referral_date
    FROM referrals AS r
    WHERE NOT r.nfa
      AND r.referral_date <= as_of
      AND (from_date IS NULL OR r.referral_date >= from_date)
      AND (to_date IS NULL OR r.referral_date <= to_date)
),
matching AS (
    SELECT DISTINCT q.child_id
    FROM qualifying AS q
    JOIN teams AS t ON t.team_id = q.team_id
    JOIN children AS c ON c.child_id = q.child_id
    WHERE (team_id_filter IS NULL OR q.team_id = team_id_filter)
      AND (team_focus IS NULL OR t.focus = team_focus)
      AND (primary_need_filter IS NULL OR q.primary_need = primary_need_filter)
      AND (age_band_filter IS NULL OR age_band(c.birth_date, q.referral_date) = age_band_filter)
      AND (sex_filter IS NULL OR c.sex = sex_filter)
      AND (ethnicity_group_filter IS NULL OR ethnicity_group(c.ethnicity) = ethnicity_group_filter)
      AND (cp_category_filter IS NULL OR c.child_id IN (
            SELECT p.child_id FROM cp_plans AS p
            WHERE p.start_date <= as_of
              AND (p.initial_category = cp_category_filter OR p.latest_category = cp_category_filter)))
)
SELECT child_id FROM matching;
