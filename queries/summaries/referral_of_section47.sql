-- title: Each section 47 enquiry with its referral's team
-- description: One row per section 47 enquiry that has a referral in the extract: its child,
--   strategy discussion and ICPC dates, and the referral's team (for the 15-working-day ICPC measure).
-- tables: section47, referrals
SELECT s.s47_id, s.child_id, s.strategy_date, s.icpc_date, r.team_id
FROM section47 AS s
JOIN referrals AS r ON r.referral_id = s.referral_id
