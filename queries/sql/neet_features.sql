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
-- param: as_of date = as_of ; statuses, records and history after this date are ignored
WITH first_known AS (
    SELECT child_id, min(recorded_date) AS outcome_date, arg_min(status, recorded_date) AS status
    FROM neet_status
    WHERE status IN ('EET', 'NEET') AND recorded_date <= $as_of
    GROUP BY child_id
),
aged AS (
    SELECT child_id, birth_date, sex, ethnicity, disability,
           date_diff('year', birth_date, $as_of)
               - CASE WHEN strftime($as_of, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END AS age
    FROM children
),
people AS (
    SELECT f.child_id, 'known' AS cohort, f.outcome_date AS scored_on, f.status = 'NEET' AS neet
    FROM first_known AS f
    UNION ALL
    SELECT a.child_id, 'pending', $as_of, NULL::BOOLEAN
    FROM aged AS a
    WHERE a.age BETWEEN 14 AND 16 AND a.child_id NOT IN (SELECT child_id FROM first_known)
),
school AS (
    SELECT p.child_id, e.academic_year, e.attendance_pct, e.suspensions, e.permanent_exclusion, e.sen, e.fsm,
           e.eal, e.alternative_provision, e.young_carer, e.young_parent, e.yot
    FROM people AS p
    JOIN aged AS a ON a.child_id = p.child_id
    JOIN education AS e ON e.child_id = p.child_id
    WHERE make_date(e.academic_year::INTEGER, 9, 1) <= p.scored_on
      AND date_diff('year', a.birth_date, make_date(e.academic_year::INTEGER, 8, 31))
          - CASE WHEN strftime(a.birth_date, '%m%d') > '0831' THEN 1 ELSE 0 END <= 15
    QUALIFY row_number() OVER (PARTITION BY p.child_id ORDER BY e.academic_year DESC) = 1
),
-- Each child's first CIN plan, CP plan and period of care, and first record of each parental factor:
-- "had one on or before scored_on" is "the first was on or before scored_on".
first_plans AS (
    SELECT child_id,
           min(start_date) FILTER (WHERE kind = 'cin') AS first_cin_plan,
           min(start_date) FILTER (WHERE kind = 'cp') AS first_cp_plan,
           min(start_date) FILTER (WHERE kind = 'la') AS first_looked_after
    FROM (
        SELECT child_id, start_date, 'cin' AS kind FROM cin_plans
        UNION ALL SELECT child_id, start_date, 'cp' FROM cp_plans
        UNION ALL SELECT child_id, start_date, 'la' FROM looked_after
    )
    GROUP BY child_id
),
first_parental_factors AS (
    SELECT child_id,
           min(first_recorded) FILTER (WHERE factor_code = '3B') AS first_domestic_abuse,
           min(first_recorded) FILTER (WHERE factor_code = '4B') AS first_mental_health,
           min(first_recorded) FILTER (WHERE factor_code IN ('1B', '2B')) AS first_substance_misuse
    FROM child_factor_first
    WHERE factor_code IN ('3B', '4B', '1B', '2B')
    GROUP BY child_id
),
history AS (
    SELECT p.child_id,
           coalesce(fp.first_cin_plan <= p.scored_on, false) AS child_in_need,
           coalesce(fp.first_cp_plan <= p.scored_on, false) AS cp_plan,
           coalesce(fp.first_looked_after <= p.scored_on, false) AS looked_after,
           (SELECT count(*) FROM referrals AS x WHERE x.child_id = p.child_id AND x.referral_date <= p.scored_on)
               AS referrals,
           coalesce(ff.first_domestic_abuse <= p.scored_on, false) AS parent_domestic_abuse,
           coalesce(ff.first_mental_health <= p.scored_on, false) AS parent_mental_health,
           coalesce(ff.first_substance_misuse <= p.scored_on, false) AS parent_substance_misuse
    FROM people AS p
    LEFT JOIN first_plans AS fp ON fp.child_id = p.child_id
    LEFT JOIN first_parental_factors AS ff ON ff.child_id = p.child_id
),
latest_referral AS (
    SELECT child_id, arg_max(team_id, referral_date) AS team_id, arg_max(worker_id, referral_date) AS worker_id,
           bool_or(NOT nfa AND (closure_date IS NULL OR closure_date > $as_of)) AS open_case
    FROM referrals
    WHERE referral_date <= $as_of
    GROUP BY child_id
)
SELECT p.child_id, p.cohort, p.scored_on, year(p.scored_on) AS outcome_year, p.neet,
       s.academic_year, s.attendance_pct,
       coalesce(s.attendance_pct < 85, false) AS attendance_below_85,
       coalesce(s.attendance_pct >= 85 AND s.attendance_pct < 90, false) AS attendance_85_to_90,
       s.attendance_pct IS NULL AS attendance_unknown,
       s.suspensions,
       s.suspensions = 1 AS suspended_once,
       s.suspensions >= 2 AS suspended_2_plus,
       s.permanent_exclusion,
       s.sen = 'sen_support' AS sen_support,
       s.sen = 'ehcp' AS ehcp,
       s.fsm, s.eal, s.alternative_provision, s.young_carer, s.young_parent, s.yot,
       h.child_in_need, h.cp_plan, h.looked_after, h.referrals,
       h.referrals = 2 AS referrals_2,
       h.referrals >= 3 AS referrals_3_plus,
       h.parent_domestic_abuse, h.parent_mental_health, h.parent_substance_misuse,
       a.age, a.sex, ethnicity_group(a.ethnicity) AS ethnicity_group,
       CASE WHEN a.disability THEN 'Disabled' WHEN NOT a.disability THEN 'Not disabled' ELSE 'Not recorded' END
           AS disability,
       r.team_id, r.worker_id, coalesce(r.open_case, false) AS open_case
FROM people AS p
JOIN school AS s ON s.child_id = p.child_id
JOIN history AS h ON h.child_id = p.child_id
JOIN aged AS a ON a.child_id = p.child_id
LEFT JOIN latest_referral AS r ON r.child_id = p.child_id
ORDER BY p.cohort, p.child_id
