-- title: Each assessment with its referral's date and team
-- description: One row per assessment that has a referral in the extract: its child, authorised
--   date, and the referral's date and team, so the 45-working-day measure does not look up
--   millions of referrals by ID on every question.
-- tables: assessments, referrals
SELECT a.assessment_id, a.child_id, a.authorised_date, r.referral_date, r.team_id
FROM assessments AS a
JOIN referrals AS r ON r.referral_id = a.referral_id
