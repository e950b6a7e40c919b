-- title: Each assessment with its referral's date, team and worker
-- description: One row per assessment that has a referral in the extract: its child, start and
--   authorised dates, its own worker and its referral's date, team and worker, so the assessment
--   questions (45 working days, open assessments) do not look up millions of referrals by ID each time.
-- tables: assessments, referrals
SELECT a.assessment_id, a.child_id, a.start_date, a.authorised_date, a.worker_id AS assessment_worker_id,
       r.referral_date, r.team_id, r.worker_id AS referral_worker_id
FROM assessments AS a
JOIN referrals AS r ON r.referral_id = a.referral_id
