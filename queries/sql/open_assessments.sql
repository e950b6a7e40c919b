-- title: Open assessments
-- description: Child and family assessments started on or before as_of and not yet authorised,
--   with the working days since the referral, the 45-working-day deadline and the working days
--   left before it (negative once it has passed). Longest-running first.
-- tables: assessments, referrals
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: as_of date = as_of ; the date assessments are judged on
-- param: team_id str = null ; only assessments on referrals this team holds
-- param: worker_id str = null ; only assessments allocated to this worker
SELECT
    a.assessment_id,
    a.child_id,
    coalesce(a.assessment_worker_id, a.referral_worker_id) AS worker_id,
    a.team_id,
    a.referral_date,
    a.start_date,
    as_of_day.wd_index - referred.wd_index AS working_days_since_referral,
    deadline.d AS deadline,
    deadline.wd_index - as_of_day.wd_index AS working_days_left
FROM referral_of_assessment AS a
JOIN calendar AS referred ON referred.d = a.referral_date
JOIN working_day_seq AS deadline ON deadline.wd_index = referred.wd_index + 45
JOIN calendar AS as_of_day ON as_of_day.d = $as_of
WHERE a.start_date <= $as_of
  AND (a.authorised_date IS NULL OR a.authorised_date > $as_of)
  AND ($team_id IS NULL OR a.team_id = $team_id)
  AND ($worker_id IS NULL OR coalesce(a.assessment_worker_id, a.referral_worker_id) = $worker_id)
ORDER BY working_days_left, a.assessment_id
