-- title: NEET: each young person's first known status, latest school year and social care history
-- description: One row per child with a school year that counts for the NEET model (neet_school_years:
--   Year 11 or earlier), with what does not depend on the date a NEET question is asked on, so that
--   neet_features reads one row a young person instead of working it out from millions of rows:
--   the child's details; the first known status with the school year and referrals by then
--   (neet_outcomes: outcome_*, null when none); the latest school year of all (neet_latest_school:
--   latest_*, with latest_year_start); the referrals of all dates (neet_child_referrals); and the dates of the first
--   CIN plan, CP plan, period of care and parental factors (neet_social_care_firsts).
--   A question asked on a date before a child's latest school year or referral reads that child's
--   earlier ones from neet_school_years and referrals.
--   When looked_after, cp_plans, cin_plans or factors is missing or unusable this is a view over the
--   other tables and an empty stand-in for the missing one: the same answers, worked out when read.
-- tables: children, education, neet_status, referrals, cin_plans, cp_plans, looked_after, factors
SELECT c.child_id, c.birth_date, c.sex, c.ethnicity, c.disability, o.outcome_date, o.outcome_neet,
       o.academic_year AS outcome_academic_year, o.attendance_pct AS outcome_attendance_pct,
       o.suspensions AS outcome_suspensions, o.permanent_exclusion AS outcome_permanent_exclusion,
       o.sen AS outcome_sen, o.fsm AS outcome_fsm, o.eal AS outcome_eal,
       o.alternative_provision AS outcome_alternative_provision, o.young_carer AS outcome_young_carer,
       o.young_parent AS outcome_young_parent, o.yot AS outcome_yot, o.outcome_referrals,
       l.latest_year_start, l.latest_academic_year, l.latest_attendance_pct, l.latest_suspensions,
       l.latest_permanent_exclusion, l.latest_sen, l.latest_fsm, l.latest_eal, l.latest_alternative_provision,
       l.latest_young_carer, l.latest_young_parent, l.latest_yot,
       coalesce(r.referrals_total, 0) AS referrals_total, r.last_referral_date, r.last_team_id, r.last_worker_id,
       r.open_until, h.first_cin_plan, h.first_cp_plan, h.first_looked_after, h.first_domestic_abuse,
       h.first_mental_health, h.first_substance_misuse
FROM children AS c
JOIN neet_latest_school AS l ON l.child_id = c.child_id
LEFT JOIN neet_outcomes AS o ON o.child_id = c.child_id
LEFT JOIN neet_child_referrals AS r ON r.child_id = c.child_id
LEFT JOIN neet_social_care_firsts AS h ON h.child_id = c.child_id
