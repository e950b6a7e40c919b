-- title: Each CP plan's team, and whether it is a repeat plan
-- description: One row per CP plan: its team (its referral's, else that of the child's latest
--   referral on or before the plan started) and is_repeat (the child had an earlier CP plan). Facts
--   that do not depend on the date a question asks about, used by the compliance measures.
-- tables: cp_plans, referrals
SELECT p.plan_id, p.child_id, p.start_date, p.end_date,
       coalesce(r.team_id, latest.team_id) AS team_id,
       p.start_date > min(p.start_date) OVER (PARTITION BY p.child_id) AS is_repeat
FROM cp_plans AS p
LEFT JOIN referrals AS r ON r.referral_id = p.referral_id
-- Only the referrals of children with a CP plan take part in the as-of join (not all referrals).
ASOF LEFT JOIN (
    SELECT child_id, referral_date, team_id FROM referrals
    WHERE child_id IN (SELECT child_id FROM cp_plans)
) AS latest ON latest.child_id = p.child_id AND latest.referral_date <= p.start_date
