-- Each worker's caseload on `as_of`: workers in post then (start on or before, no end or an
-- end on or after it) and anyone still holding open cases. open_cases counts distinct children
-- with an open referral allocated to the worker; cp/cin/cla_cases those of them on such a
-- plan; overdue_visits the worker's rows of plan_visit_status that are overdue.
CREATE OR REPLACE MACRO worker_caseload(as_of, cp_wd, cin_wd, cla_days) AS TABLE
WITH allocated AS (
    SELECT DISTINCT worker_id, child_id
    FROM referrals
    WHERE referral_date <= as_of
      AND NOT nfa
      AND (closure_date IS NULL OR closure_date > as_of)
      AND worker_id IS NOT NULL
),
visit_status AS (
    SELECT * FROM plan_visit_status([as_of], cp_wd, cin_wd, cla_days, NULL, NULL)
),
per_worker AS (
    SELECT
        a.worker_id,
        count(DISTINCT a.child_id) AS open_cases,
        count(DISTINCT a.child_id) FILTER (WHERE cp.child_id IS NOT NULL) AS cp_cases,
        count(DISTINCT a.child_id) FILTER (WHERE cin.child_id IS NOT NULL) AS cin_cases,
        count(DISTINCT a.child_id) FILTER (WHERE cla.child_id IS NOT NULL) AS cla_cases
    FROM allocated AS a
    LEFT JOIN visit_status AS cp ON cp.child_id = a.child_id AND cp.plan_type = 'cp'
    LEFT JOIN visit_status AS cin ON cin.child_id = a.child_id AND cin.plan_type = 'cin'
    LEFT JOIN visit_status AS cla ON cla.child_id = a.child_id AND cla.plan_type = 'cla'
    GROUP BY a.worker_id
),
overdue AS (
    SELECT worker_id, count(*) AS overdue_visits
    FROM visit_status
    WHERE is_overdue AND worker_id IS NOT NULL
    GROUP BY worker_id
)
SELECT
    w.worker_id,
    w.team_id,
    coalesce(p.open_cases, 0) AS open_cases,
    coalesce(p.cp_cases, 0) AS cp_cases,
    coalesce(p.cin_cases, 0) AS cin_cases,
    coalesce(p.cla_cases, 0) AS cla_cases,
    w.fte,
    round(coalesce(p.open_cases, 0) / w.fte, 1) AS cases_per_fte,
    -- Unknown (null), not 0, when the extract has no visits table (e.g. one made from the CIN census alone)
    CASE WHEN has_table('visits') THEN coalesce(o.overdue_visits, 0) END AS overdue_visits,
    w.worker_name,
    w.role,
    w.agency,
    (w.start_date <= as_of AND (w.end_date IS NULL OR w.end_date >= as_of)) AS in_post
FROM workers AS w
LEFT JOIN per_worker AS p ON p.worker_id = w.worker_id
LEFT JOIN overdue AS o ON o.worker_id = w.worker_id
WHERE ((w.start_date <= as_of AND (w.end_date IS NULL OR w.end_date >= as_of)) OR p.open_cases > 0);
