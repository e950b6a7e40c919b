-- title: Open cases with their next visit
-- description: Each child with an open referral on as_of, with the plans they are on (CP, CIN,
--   looked after), their last statutory visit, when the next is due and how many working days
--   are left (negative: overdue), and a red / amber / green status: red overdue, amber due within
--   5 working days, green later; no status when the child is on no plan. Without a visits table
--   the visit columns and the status are unknown (null): no visit record is not an overdue visit.
-- tables: referrals
-- optional_tables: cp_plans, cin_plans, looked_after, visits
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: as_of date = as_of ; the date cases are judged on
-- param: worker_id str = null ; only children allocated to this worker
-- param: team_id str = null ; only children whose referral this team holds
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
WITH open_referrals AS (
    SELECT child_id, worker_id, team_id, referral_id, referral_date
    FROM referrals
    WHERE referral_date <= $as_of
      AND NOT nfa
      AND (closure_date IS NULL OR closure_date > $as_of)
      AND ($worker_id IS NULL OR worker_id = $worker_id)
      AND ($team_id IS NULL OR team_id = $team_id)
    QUALIFY row_number() OVER (PARTITION BY child_id, worker_id ORDER BY referral_date DESC, referral_id DESC) = 1
),
plans AS (
    SELECT
        child_id,
        string_agg(upper(plan_type), ', ' ORDER BY plan_type = 'cla', plan_type = 'cin', plan_type) AS plans,
        max(last_visit_date) AS last_visit_date,
        min(due_date) AS next_visit_due,
        min(working_days_to_due) AS working_days_to_due,
        bool_or(is_overdue) AS is_overdue
    FROM plan_visit_status([$as_of], $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days, $team_id, $worker_id)
    GROUP BY child_id
)
SELECT
    o.child_id,
    o.worker_id,
    o.team_id,
    o.referral_id,
    o.referral_date,
    p.plans,
    p.last_visit_date,
    CASE WHEN has_table('visits') THEN p.next_visit_due END AS next_visit_due,
    CASE WHEN has_table('visits') THEN p.working_days_to_due END AS working_days_to_due,
    CASE
        WHEN p.child_id IS NULL OR NOT has_table('visits') THEN NULL
        WHEN p.is_overdue THEN 'red'
        WHEN p.working_days_to_due <= 5 THEN 'amber'
        ELSE 'green'
    END AS rag
FROM open_referrals AS o
LEFT JOIN plans AS p ON p.child_id = o.child_id
ORDER BY p.working_days_to_due NULLS LAST, o.child_id
