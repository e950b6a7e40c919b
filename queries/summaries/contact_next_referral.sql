-- title: Each contact, and the child's next referral
-- description: One row per contact (its child, date, source, outcome and team) with the date of
--   the child's first referral on or after the contact date (null when there is none). Whether a
--   contact became a referral (that date within contact_referral_days of it, and on or before
--   as_of) is then a comparison on each row, not a search of the child's referrals every time.
-- tables: contacts, referrals
SELECT c.contact_id, c.child_id, c.contact_date, c.source, c.outcome, c.team_id,
       r.referral_date AS next_referral_date
FROM contacts AS c
ASOF LEFT JOIN (SELECT child_id, referral_date FROM referrals) AS r
    ON r.child_id = c.child_id AND r.referral_date >= c.contact_date
ORDER BY c.contact_date
