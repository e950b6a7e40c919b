-- Every plan that carries a statutory visit standard, one row each: the child, plan_type (cp: child
-- protection plan, cin: child in need plan, cla: period looked after), its start and end (NULL: open).
CREATE OR REPLACE MACRO statutory_plans() AS TABLE
SELECT child_id, 'cp' AS plan_type, start_date, end_date FROM cp_plans
UNION ALL
SELECT child_id, 'cin', start_date, end_date FROM cin_plans
UNION ALL
SELECT child_id, 'cla', start_date, end_date FROM looked_after;
