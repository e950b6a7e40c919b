-- title: Due in the next 5 working days
-- description: What falls due from as_of to the 5th working day after it: statutory visits on
--   open plans, assessment deadlines (45 working days from referral) and CP review conferences
--   (3 months after the plan start, then 6 months after the last review). Soonest first.
-- tables: referrals, assessments, visits
-- optional_tables: cp_plans, cp_reviews, cin_plans, looked_after
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: as_of date = as_of ; the first day of the window
-- param: worker_id str = null ; only this worker's children
-- param: team_id str = null ; only this team's children
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
WITH window_end AS (
    SELECT seq.d AS last_day
    FROM calendar AS c JOIN working_day_seq AS seq ON seq.wd_index = c.wd_index + 5
    WHERE c.d = $as_of
),
visit_items AS (
    SELECT 'visit' AS item, upper(plan_type) || ' visit' AS detail, child_id, worker_id, team_id, due_date
    FROM plan_visit_status([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days, $team_id, $worker_id)
    WHERE NOT is_overdue
),
assessment_items AS (
    SELECT 'assessment' AS item, 'Assessment ' || assessment_id || ' deadline' AS detail,
           child_id, worker_id, team_id, deadline AS due_date
    FROM (
        SELECT a.assessment_id, a.child_id, coalesce(a.assessment_worker_id, a.referral_worker_id) AS worker_id,
               a.team_id, seq.d AS deadline
        FROM referral_of_assessment AS a
        JOIN calendar AS c ON c.d = a.referral_date
        JOIN working_day_seq AS seq ON seq.wd_index = c.wd_index + 45
        WHERE a.start_date <= $as_of AND (a.authorised_date IS NULL OR a.authorised_date > $as_of)
    )
),
holders AS (
    SELECT child_id, worker_id, team_id
    FROM referrals
    WHERE referral_date <= $as_of AND NOT nfa AND (closure_date IS NULL OR closure_date > $as_of)
    QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY referral_date DESC, referral_id DESC) = 1
),
review_items AS (
    SELECT 'cp_review' AS item, 'CP review conference' AS detail, p.child_id, h.worker_id, h.team_id,
           CAST(CASE WHEN max(v.review_date) IS NULL THEN p.start_date + INTERVAL 3 MONTH
                     ELSE max(v.review_date) + INTERVAL 6 MONTH END AS DATE) AS due_date
    FROM cp_plans AS p
    LEFT JOIN cp_reviews AS v ON v.plan_id = p.plan_id AND v.review_date <= $as_of
    LEFT JOIN holders AS h ON h.child_id = p.child_id
    WHERE p.start_date <= $as_of AND (p.end_date IS NULL OR p.end_date > $as_of)
    GROUP BY p.plan_id, p.child_id, p.start_date, h.worker_id, h.team_id
),
items AS (
    SELECT * FROM visit_items
    UNION ALL SELECT * FROM assessment_items
    UNION ALL SELECT * FROM review_items
)
SELECT i.item, i.detail, i.child_id, i.worker_id, i.team_id, i.due_date,
       due.wd_index - today.wd_index AS working_days_left
FROM items AS i, window_end
JOIN calendar AS due ON due.d = i.due_date
JOIN calendar AS today ON today.d = $as_of
WHERE i.due_date >= $as_of AND i.due_date <= window_end.last_day
  AND ($worker_id IS NULL OR i.worker_id = $worker_id)
  AND ($team_id IS NULL OR i.team_id = $team_id)
ORDER BY i.due_date, i.child_id, i.item
