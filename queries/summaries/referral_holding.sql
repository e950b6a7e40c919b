-- title: Each referral, and when the child's next referral superseded it
-- description: One row per referral with the columns that decide who holds a child's case, and
--   superseded_on: the date of the child's next referral (by date, then referral ID), NULL for the
--   latest. The case holder on a date is the child's latest open referral then, else its latest
--   referral; a referral can only be either while open or before it is superseded, so the visit
--   questions match each child with one or two candidate referrals per date instead of all of them.
-- tables: referrals
SELECT referral_id, child_id, referral_date, nfa, closure_date, worker_id, team_id,
       lead(referral_date) OVER (PARTITION BY child_id ORDER BY referral_date, referral_id) AS superseded_on
FROM referrals
