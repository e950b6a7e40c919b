-- title: Each closed episode of need with a plan or care: its comparison stratum and outcome
-- description: One row per closed, non-NFA referral on which the child had a CIN plan, a CP plan or a
--   period in care (of a child in children, with a team in teams), for the service comparison:
--   family_no (the child's family: family_id, else the child alone, numbered), kind_from (the earliest
--   as_of on which the referral counts as of that kind: the first start of a CIN or CP plan recorded on
--   it, or of a CP plan without a referral or a period in care overlapping it, where one still open
--   counts from the referral date), closure_date, its exact stratum (primary_need, N0 when null;
--   age_band on the referral date; factor_band of the distinct factors known at the start, 0-1, 2-3 or
--   4+: code 21 "no factors" not counted, first recorded on or before the referral's first authorised
--   assessment, or its referral date when it has none, so what was known when services started, not
--   what was found by the closure; the team's service_area; stratum_no numbers the strata) and success
--   (no referral in the 365 days after closure, from referral_facts). Referrals that cannot be judged
--   are left out: a new referral within a year could not be recorded here, because the child died
--   (closure reason RC2), moved to another council (RC5) or to adult services (RC6), or turned 18
--   within 365 days of the closure. The question keeps the rows with closure_date <= as_of - 365 and
--   kind_from <= as_of, so these facts are not worked out for millions of referrals on every question.
-- tables: referrals, factors, children, teams, cin_plans, cp_plans, looked_after, assessments
-- The closed referrals come from referral_facts, which holds each one's outcome already, rather than from
-- referrals joined to it again: nationally, quicker in 4 of 5 alternated pairs (by 1.0 to 1.8 s; the fifth 0.9 s slower).
WITH closed AS (
    SELECT referral_id, child_id, referral_date, closure_date, closure_reason, team_id, primary_need, returned_within_365
    FROM referral_facts
    WHERE NOT nfa AND closure_date IS NOT NULL
),
-- For each way a referral becomes "of the kind", the earliest as_of from which it is. Every as_of asked
-- about is at least 365 days after the closure, so a plan or care period that starts by the closure and
-- ended on or after the referral date counts from its start whatever the as_of; one with no end counts
-- once as_of reaches the referral date.
counts_from AS (
    SELECT c.referral_id, p.start_date AS counts_from
    FROM closed AS c
    JOIN cin_plans AS p ON p.referral_id = c.referral_id
    UNION ALL
    SELECT c.referral_id, p.start_date
    FROM closed AS c
    JOIN cp_plans AS p ON p.referral_id = c.referral_id
    UNION ALL
    SELECT c.referral_id, CASE WHEN p.end_date IS NULL THEN greatest(p.start_date, c.referral_date) ELSE p.start_date END
    FROM closed AS c
    JOIN cp_plans AS p
        ON p.referral_id IS NULL AND p.child_id = c.child_id AND p.start_date <= c.closure_date
       AND (p.end_date >= c.referral_date OR (p.end_date IS NULL AND c.referral_date IS NOT NULL))
    UNION ALL
    SELECT c.referral_id, CASE WHEN l.end_date IS NULL THEN greatest(l.start_date, c.referral_date) ELSE l.start_date END
    FROM closed AS c
    JOIN looked_after AS l
        ON l.child_id = c.child_id AND l.start_date <= c.closure_date
       AND (l.end_date >= c.referral_date OR (l.end_date IS NULL AND c.referral_date IS NOT NULL))
),
kind AS (
    SELECT referral_id, min(counts_from) AS kind_from
    FROM counts_from
    GROUP BY referral_id
    HAVING min(counts_from) IS NOT NULL
),
-- Only the referrals of the kind that can be judged go on: the factor count below is the costly part.
judged AS (
    SELECT c.*, k.kind_from, ch.birth_date, coalesce('F:' || ch.family_id, 'C:' || c.child_id) AS family_key,
           date_diff('year', ch.birth_date, c.referral_date)
           - CASE WHEN strftime(c.referral_date, '%m%d') < strftime(ch.birth_date, '%m%d') THEN 1 ELSE 0 END AS age
    FROM closed AS c
    JOIN kind AS k ON k.referral_id = c.referral_id
    JOIN children AS ch ON ch.child_id = c.child_id
    WHERE NOT (coalesce(c.closure_reason IN ('RC2', 'RC5', 'RC6'), false)
               OR coalesce(ch.birth_date + INTERVAL 18 YEAR <= c.closure_date + 365, false))
),
assessed AS (
    SELECT referral_id, min(authorised_date) AS assessed_on
    FROM assessments
    WHERE authorised_date IS NOT NULL
    GROUP BY referral_id
),
factors_at_start AS (
    SELECT j.referral_id, count(*) AS n
    FROM judged AS j
    LEFT JOIN assessed AS a ON a.referral_id = j.referral_id
    JOIN child_factor_first AS f ON f.child_id = j.child_id
    WHERE f.first_recorded <= coalesce(a.assessed_on, j.referral_date) AND f.factor_code <> '21'
    GROUP BY j.referral_id
),
stratified AS (
    SELECT j.referral_id, j.family_key, j.kind_from, j.closure_date,
           coalesce(j.primary_need, 'N0') AS primary_need,
           -- the age_band macro (queries/macros/age_band.sql), which summaries cannot call
           CASE WHEN j.birth_date > j.referral_date THEN 'unborn' WHEN j.age < 1 THEN 'under 1' WHEN j.age < 5 THEN '1-4'
                WHEN j.age < 10 THEN '5-9' WHEN j.age < 16 THEN '10-15' ELSE '16+' END AS age_band,
           CASE WHEN coalesce(fs.n, 0) <= 1 THEN '0-1' WHEN fs.n <= 3 THEN '2-3' ELSE '4+' END AS factor_band,
           t.service_area,
           NOT j.returned_within_365 AS success
    FROM judged AS j
    JOIN teams AS t ON t.team_id = j.team_id
    LEFT JOIN factors_at_start AS fs ON fs.referral_id = j.referral_id
),
-- Families and strata are numbered once each, then joined back (sorting 2.6 M rows by four text columns
-- to number a few hundred strata took longer than the rest of the step).
families AS (
    SELECT family_key, row_number() OVER (ORDER BY family_key) AS family_no FROM (SELECT DISTINCT family_key FROM stratified)
),
strata AS (
    SELECT *, row_number() OVER (ORDER BY primary_need, age_band, factor_band, service_area) AS stratum_no
    FROM (SELECT DISTINCT primary_need, age_band, factor_band, service_area FROM stratified)
)
SELECT s.* EXCLUDE (family_key), f.family_no, n.stratum_no
FROM stratified AS s
JOIN families AS f ON f.family_key = s.family_key
JOIN strata AS n
    ON n.primary_need = s.primary_need AND n.age_band = s.age_band AND n.factor_band = s.factor_band
   AND n.service_area IS NOT DISTINCT FROM s.service_area
