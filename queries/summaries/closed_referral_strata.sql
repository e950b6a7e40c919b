-- title: Each closed episode of need with a plan or care: its comparison stratum and outcome
-- description: One row per closed, non-NFA referral on which the child had a CIN plan, a CP plan or a
--   period in care (of a child in children, with a team in teams), for the service comparison:
--   family_no (the child's family: family_id, else the child alone, numbered), kind_from (the earliest as_of on which the referral counts as of that kind: the first start of a
--   CIN or CP plan recorded on it, or of a CP plan without a referral or a period in care overlapping
--   it, where one still open counts from the referral date), closure_date, its exact stratum
--   (primary_need, N0 when null; age_band on the referral date; factor_band of the distinct factors known at the
--   start (closed_referral_facts.factors_at_start), 0-1, 2-3 or 4+; the team's service_area; stratum_no numbers the strata) and success (no
--   referral in the 365 days after closure). Referrals that cannot be judged (closed_referral_facts:
--   the child died, moved away or turned 18 within the year) are left out. The question keeps the rows with closure_date <= as_of - 365 and kind_from <= as_of, so
--   these facts are not worked out for millions of referrals on every question.
-- tables: referrals, factors, children, teams, cin_plans, cp_plans, looked_after, assessments
WITH closed AS (
    SELECT referral_id, child_id, referral_date, closure_date, team_id, primary_need
    FROM referrals
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
aged AS (
    SELECT c.*, ch.birth_date, coalesce('F:' || ch.family_id, 'C:' || c.child_id) AS family_key,
           date_diff('year', ch.birth_date, c.referral_date)
           - CASE WHEN strftime(c.referral_date, '%m%d') < strftime(ch.birth_date, '%m%d') THEN 1 ELSE 0 END AS age
    FROM closed AS c
    JOIN children AS ch ON ch.child_id = c.child_id
),
stratified AS (
    SELECT a.referral_id, a.family_key, k.kind_from, a.closure_date,
           coalesce(a.primary_need, 'N0') AS primary_need,
           -- the age_band macro (queries/macros/age_band.sql), which summaries cannot call
           CASE WHEN a.birth_date > a.referral_date THEN 'unborn' WHEN a.age < 1 THEN 'under 1' WHEN a.age < 5 THEN '1-4'
                WHEN a.age < 10 THEN '5-9' WHEN a.age < 16 THEN '10-15' ELSE '16+' END AS age_band,
           CASE WHEN cf.factors_at_start <= 1 THEN '0-1' WHEN cf.factors_at_start <= 3 THEN '2-3' ELSE '4+' END
               AS factor_band,
           t.service_area,
           NOT cf.rereferred_within_365 AS success
    FROM aged AS a
    JOIN kind AS k ON k.referral_id = a.referral_id
    JOIN teams AS t ON t.team_id = a.team_id
    JOIN closed_referral_facts AS cf ON cf.referral_id = a.referral_id AND NOT cf.cannot_be_judged
)
SELECT * EXCLUDE (family_key), dense_rank() OVER (ORDER BY family_key) AS family_no, dense_rank() OVER (ORDER BY primary_need, age_band, factor_band, service_area) AS stratum_no
FROM stratified
