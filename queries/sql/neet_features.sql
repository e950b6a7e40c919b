-- title: NEET model: one row per young person, features frozen when the risk list is used
-- description: The young people the NEET risk model learns from and scores, one row each, as at the
--   moment the risk list is used: features_as_of is the end of the young person's Year 10
--   (features_year 10, the default) or Year 9 (features_year 9), 31 August; nothing dated after it
--   is a feature. School features come from the latest education row of a school year that began
--   on or before it (the Year 10 or 9 row, or an earlier one); a young person without one is left
--   out. Social care history counts what started on or before it: a CIN plan, a CP plan, a period
--   of care, referrals (NFA included) and the parental factors domestic abuse (3B), mental health
--   (4B) and substance misuse (1B, 2B).
--   The outcome (DfE headline measure) is NEET or activity not known at academic age 16-17: any
--   status recorded from 1 September of Year 12 (outcome_from) to the end of February of Year 13
--   (outcome_to, the close of the DfE's December-February count) that is NEET or 'unknown' (neet);
--   neet_only: any NEET status in that window. outcome_year is the year of outcome_to.
--   cohort 'known': the window closed on or before as_of and holds at least one status.
--   cohort 'pending': features_as_of is on or before as_of and the window has not opened (Year 11,
--   or Years 10-11 with features_year 9): the young people the risk list scores.
--   team_id, worker_id, open_case: the latest referral on or before as_of (whose team holds the
--   young person now), not features.
--   Child-level: for the NEET page's model and risk list, not for sharing.
-- tables: children, education, neet_status, referrals
-- optional_tables: looked_after, cp_plans, cin_plans, factors
-- access: child-level
-- roles: analyst
-- param: as_of date = as_of ; statuses and records after this date are ignored
-- param: features_year int = 10 ; features frozen at the end of this school year (9 or 10)
--
-- Year 12 begins on 1 September of year_12 (the young person is 16 on the 31 August before it).
WITH young AS (
    SELECT child_id, birth_date, sex, ethnicity, disability, year_12,
           make_date(year_12 - 12 + CASE WHEN $features_year IN (9, 10) THEN $features_year::INTEGER
                                         ELSE error('neet_features: features_year must be 9 or 10') END + 1, 8, 31)
               AS features_as_of,
           make_date(year_12, 9, 1) AS outcome_from,
           CAST(make_date(year_12 + 2, 3, 1) - INTERVAL 1 DAY AS DATE) AS outcome_to,
           date_diff('year', birth_date, $as_of)
               - CASE WHEN strftime($as_of, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END AS age
    FROM (
        SELECT *, year(birth_date) + 16 + CASE WHEN strftime(birth_date, '%m%d') > '0831' THEN 1 ELSE 0 END
                      AS year_12
        FROM children
        WHERE birth_date IS NOT NULL
    )
),
outcomes AS (
    SELECT child_id, neet, neet_only FROM neet_outcomes($as_of)
),
people AS (
    SELECT y.*, 'known' AS cohort, o.neet, o.neet_only
    FROM young AS y
    JOIN outcomes AS o ON o.child_id = y.child_id
    UNION ALL
    SELECT y.*, 'pending', NULL::BOOLEAN, NULL::BOOLEAN
    FROM young AS y
    WHERE y.features_as_of <= $as_of AND y.outcome_from > $as_of
),
-- The latest school year that began on or before features_as_of (neet_school_years: Year 11 or earlier).
school AS (
    SELECT p.child_id, arg_max(s, s.academic_year) AS s
    FROM people AS p
    JOIN neet_school_years AS s ON s.child_id = p.child_id AND s.year_start <= p.features_as_of
    GROUP BY p.child_id
),
referrals_then AS (
    SELECT p.child_id, count(*) AS referrals
    FROM people AS p
    JOIN referrals AS r ON r.child_id = p.child_id AND r.referral_date <= p.features_as_of
    GROUP BY p.child_id
),
-- Who holds the young person on as_of: for the risk list only.
holding AS (
    SELECT r.child_id, arg_max(r.team_id, r.referral_date) AS team_id, arg_max(r.worker_id, r.referral_date) AS worker_id,
           bool_or(NOT r.nfa AND (r.closure_date IS NULL OR r.closure_date > $as_of)) AS open_case
    FROM referrals AS r
    WHERE r.referral_date <= $as_of AND r.child_id IN (SELECT child_id FROM people WHERE cohort = 'pending')
    GROUP BY r.child_id
)
SELECT p.child_id, p.cohort, p.features_as_of, p.outcome_from, p.outcome_to, year(p.outcome_to) AS outcome_year,
       p.neet, p.neet_only,
       t.s.academic_year, t.s.attendance_pct,
       coalesce(t.s.attendance_pct < 85, false) AS attendance_below_85,
       coalesce(t.s.attendance_pct >= 85 AND t.s.attendance_pct < 90, false) AS attendance_85_to_90,
       t.s.attendance_pct IS NULL AS attendance_unknown,
       t.s.suspensions,
       t.s.suspensions = 1 AS suspended_once,
       t.s.suspensions >= 2 AS suspended_2_plus,
       t.s.permanent_exclusion,
       t.s.sen = 'sen_support' AS sen_support,
       t.s.sen = 'ehcp' AS ehcp,
       t.s.fsm, t.s.eal, t.s.alternative_provision, t.s.young_carer, t.s.young_parent, t.s.yot,
       coalesce(h.first_cin_plan <= p.features_as_of, false) AS child_in_need,
       coalesce(h.first_cp_plan <= p.features_as_of, false) AS cp_plan,
       coalesce(h.first_looked_after <= p.features_as_of, false) AS looked_after,
       coalesce(r.referrals, 0) AS referrals,
       coalesce(r.referrals, 0) = 2 AS referrals_2,
       coalesce(r.referrals, 0) >= 3 AS referrals_3_plus,
       coalesce(h.first_domestic_abuse <= p.features_as_of, false) AS parent_domestic_abuse,
       coalesce(h.first_mental_health <= p.features_as_of, false) AS parent_mental_health,
       coalesce(h.first_substance_misuse <= p.features_as_of, false) AS parent_substance_misuse,
       p.age, p.sex, ethnicity_group(p.ethnicity) AS ethnicity_group,
       CASE WHEN p.disability THEN 'Disabled' WHEN NOT p.disability THEN 'Not disabled' ELSE 'Not recorded' END
           AS disability,
       w.team_id, w.worker_id, coalesce(w.open_case, false) AS open_case
FROM people AS p
JOIN school AS t ON t.child_id = p.child_id
LEFT JOIN referrals_then AS r ON r.child_id = p.child_id
LEFT JOIN neet_social_care_firsts AS h ON h.child_id = p.child_id
LEFT JOIN holding AS w ON w.child_id = p.child_id
ORDER BY p.cohort, p.child_id
