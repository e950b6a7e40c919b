-- title: NEET model: one row per young person
-- description: The young people the NEET risk model learns from and scores, one row each.
--   cohort 'known': a known status (EET or NEET, not 'unknown') recorded at 16-18 on or before
--   as_of; the outcome is the first known status (neet true/false) and scored_on is its date.
--   cohort 'pending': aged 14-16 on as_of with no known status yet; scored_on is as_of.
--   School features come from the latest education row of a school year that began on or before
--   scored_on and in which the young person was 15 or younger on 31 August (Year 11 or earlier);
--   a young person without such a row is left out. Social care history counts what started on or
--   before scored_on: a CIN plan, a CP plan, a period of care, referrals (NFA included) and the
--   parental factors domestic abuse (3B), mental health (4B) and substance misuse (1B, 2B).
--   Child-level: for the NEET page's model and risk list, not for sharing.
-- tables: children, education, neet_status, referrals
-- optional_tables: looked_after, cp_plans, cin_plans, factors
-- access: child-level
-- roles: analyst
-- param: as_of date = as_of ; statuses, records and history after this date are ignored
--
-- What does not depend on as_of is in the summary neet_young_people, one row a young person: the first
-- known status with the school year and referrals by then, the latest school year and referral of all,
-- and the first date of each part of the social care history. A young person known by as_of reads the
-- first; one still to come reads the latest, unless it is after as_of: then their school years and
-- referrals up to as_of are read (few, or none, when as_of is the extract's date).
WITH young AS NOT MATERIALIZED (
    SELECT *,
           date_diff('year', birth_date, $as_of)
               - CASE WHEN month($as_of) * 100 + day($as_of) < month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END
               AS age
    FROM neet_young_people
),
-- The latest school year that began on or before as_of, for young people with a later one.
school_then AS (
    SELECT child_id, arg_max(s, academic_year) AS s
    FROM neet_school_years AS s
    WHERE last_year_start > $as_of AND year_start <= $as_of
    GROUP BY child_id
),
-- The referrals on or before as_of, for children with a later one.
referrals_then AS (
    SELECT child_id, count(*) AS referrals, arg_max(team_id, referral_date) AS team_id,
           arg_max(worker_id, referral_date) AS worker_id,
           bool_or(NOT nfa AND (closure_date IS NULL OR closure_date > $as_of)) AS open_case
    FROM referrals
    WHERE referral_date <= $as_of
      AND child_id IN (SELECT child_id FROM neet_child_referrals WHERE last_referral_date > $as_of)
    GROUP BY child_id
),
people AS (
    SELECT child_id, 'known' AS cohort, outcome_date AS scored_on, outcome_neet AS neet,
           outcome_academic_year AS academic_year, outcome_attendance_pct AS attendance_pct,
           outcome_suspensions AS suspensions, outcome_permanent_exclusion AS permanent_exclusion,
           outcome_sen AS sen, outcome_fsm AS fsm, outcome_eal AS eal,
           outcome_alternative_provision AS alternative_provision, outcome_young_carer AS young_carer,
           outcome_young_parent AS young_parent, outcome_yot AS yot, outcome_referrals AS referrals,
           age, sex, ethnicity, disability, last_referral_date, last_team_id, last_worker_id, open_until,
           first_cin_plan, first_cp_plan, first_looked_after, first_domestic_abuse, first_mental_health,
           first_substance_misuse
    FROM young
    WHERE outcome_date <= $as_of AND outcome_academic_year IS NOT NULL
    UNION ALL
    SELECT y.child_id, 'pending', $as_of, NULL::BOOLEAN,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_academic_year ELSE t.s.academic_year END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_attendance_pct ELSE t.s.attendance_pct END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_suspensions ELSE t.s.suspensions END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_permanent_exclusion ELSE t.s.permanent_exclusion END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_sen ELSE t.s.sen END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_fsm ELSE t.s.fsm END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_eal ELSE t.s.eal END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_alternative_provision ELSE t.s.alternative_provision END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_young_carer ELSE t.s.young_carer END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_young_parent ELSE t.s.young_parent END,
           CASE WHEN y.latest_year_start <= $as_of THEN y.latest_yot ELSE t.s.yot END,
           CASE WHEN y.last_referral_date > $as_of THEN coalesce(r.referrals, 0) ELSE y.referrals_total END,
           y.age, y.sex, y.ethnicity, y.disability, y.last_referral_date, y.last_team_id, y.last_worker_id,
           y.open_until, y.first_cin_plan, y.first_cp_plan, y.first_looked_after, y.first_domestic_abuse,
           y.first_mental_health, y.first_substance_misuse
    FROM young AS y
    LEFT JOIN school_then AS t ON t.child_id = y.child_id
    LEFT JOIN referrals_then AS r ON r.child_id = y.child_id
    -- The birth dates first (a cheap filter on the stored column), then the exact age.
    WHERE y.birth_date > CAST($as_of - INTERVAL 18 YEAR AS DATE) AND y.birth_date <= CAST($as_of - INTERVAL 13 YEAR AS DATE)
      AND y.age BETWEEN 14 AND 16 AND (y.outcome_date IS NULL OR y.outcome_date > $as_of)
      AND (y.latest_year_start <= $as_of OR t.child_id IS NOT NULL)
)
SELECT p.child_id, p.cohort, p.scored_on, year(p.scored_on) AS outcome_year, p.neet,
       p.academic_year, p.attendance_pct,
       coalesce(p.attendance_pct < 85, false) AS attendance_below_85,
       coalesce(p.attendance_pct >= 85 AND p.attendance_pct < 90, false) AS attendance_85_to_90,
       p.attendance_pct IS NULL AS attendance_unknown,
       p.suspensions,
       p.suspensions = 1 AS suspended_once,
       p.suspensions >= 2 AS suspended_2_plus,
       p.permanent_exclusion,
       p.sen = 'sen_support' AS sen_support,
       p.sen = 'ehcp' AS ehcp,
       p.fsm, p.eal, p.alternative_provision, p.young_carer, p.young_parent, p.yot,
       coalesce(p.first_cin_plan <= p.scored_on, false) AS child_in_need,
       coalesce(p.first_cp_plan <= p.scored_on, false) AS cp_plan,
       coalesce(p.first_looked_after <= p.scored_on, false) AS looked_after,
       p.referrals,
       p.referrals = 2 AS referrals_2,
       p.referrals >= 3 AS referrals_3_plus,
       coalesce(p.first_domestic_abuse <= p.scored_on, false) AS parent_domestic_abuse,
       coalesce(p.first_mental_health <= p.scored_on, false) AS parent_mental_health,
       coalesce(p.first_substance_misuse <= p.scored_on, false) AS parent_substance_misuse,
       p.age, p.sex, ethnicity_group(p.ethnicity) AS ethnicity_group,
       CASE WHEN p.disability THEN 'Disabled' WHEN NOT p.disability THEN 'Not disabled' ELSE 'Not recorded' END
           AS disability,
       CASE WHEN p.last_referral_date > $as_of THEN r.team_id ELSE p.last_team_id END AS team_id,
       CASE WHEN p.last_referral_date > $as_of THEN r.worker_id ELSE p.last_worker_id END AS worker_id,
       CASE WHEN p.last_referral_date > $as_of THEN coalesce(r.open_case, false)
            ELSE coalesce(p.open_until > $as_of, false) END AS open_case
FROM people AS p
LEFT JOIN referrals_then AS r ON r.child_id = p.child_id
ORDER BY p.cohort, p.child_id
