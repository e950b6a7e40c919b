-- title: NEET: each child's referrals of all dates
-- description: One row per child with a dated referral: how many (referrals_total), the latest date
--   (last_referral_date), the team and worker of the latest (as arg_max gives them: the worker is that
--   of the latest referral with one), and open_until: the latest closure date of a non-NFA referral,
--   'infinity' when one is not closed (null when all were NFA). For a date on or after
--   last_referral_date these are the child's referrals so far, and the child had an open case on it
--   when open_until is after it.
-- tables: referrals
SELECT child_id, count(*) AS referrals_total, max(referral_date) AS last_referral_date,
       arg_max(team_id, referral_date) AS last_team_id, arg_max(worker_id, referral_date) AS last_worker_id,
       max(coalesce(closure_date, 'infinity'::DATE)) FILTER (WHERE NOT nfa) AS open_until
FROM referrals
WHERE referral_date IS NOT NULL
GROUP BY child_id
