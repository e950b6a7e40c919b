-- title: Each referral, and the first date of each later step on it
-- description: One row per referral (its date and team) with the first date each later
--   step was recorded on it, linked by referral_id: an assessment started, a section 47 enquiry's
--   strategy discussion, an initial child protection conference held, a child protection plan
--   started (null when never). The front door flow compares these dates with as_of.
-- tables: referrals, assessments, section47, cp_plans
SELECT r.referral_date, r.team_id,
       a.first_assessment, s.first_strategy, s.first_icpc, p.first_plan
FROM referrals AS r
LEFT JOIN (
    SELECT referral_id, min(start_date) AS first_assessment FROM assessments GROUP BY referral_id
) AS a ON a.referral_id = r.referral_id
LEFT JOIN (
    SELECT referral_id, min(strategy_date) AS first_strategy, min(icpc_date) AS first_icpc
    FROM section47 GROUP BY referral_id
) AS s ON s.referral_id = r.referral_id
LEFT JOIN (
    SELECT referral_id, min(start_date) AS first_plan FROM cp_plans WHERE referral_id IS NOT NULL GROUP BY referral_id
) AS p ON p.referral_id = r.referral_id
ORDER BY r.referral_date
