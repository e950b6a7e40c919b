-- title: Compliance trend
-- description: The compliance summary's measures at the end of each of the last 12 months (the
--   latest point is as_of itself), per team, so a manager can see whether practice is drifting.
-- tables: teams, referrals, assessments
-- optional_tables: section47, cp_plans, cp_reviews, cin_plans, looked_after, visits
-- param: as_of date = as_of ; the last point of the trend
-- param: months int = 12 ; how many month-ends to show
-- param: team_id str = null ; only this team
-- param: cp_visit_working_days int = setting ; CP visit standard in working days
-- param: cin_visit_working_days int = setting ; CIN visit standard in working days
-- param: cla_visit_days int = setting ; looked-after visit standard in calendar days
SELECT c.as_of AS month_end, c.team_id, c.measure, c.numerator, c.denominator, c.pct, c.label, c.higher_is_better
FROM compliance_measures(
    (SELECT list(CASE WHEN i = 0 THEN $as_of
                      ELSE CAST(date_trunc('month', $as_of) - INTERVAL (i - 1) MONTH - INTERVAL 1 DAY AS DATE) END)
     FROM range(0, $months) AS t(i)),
    $cp_visit_working_days, $cin_visit_working_days, $cla_visit_days
) AS c
WHERE $team_id IS NULL OR c.team_id = $team_id
ORDER BY c.team_id, c.measure_order, month_end
