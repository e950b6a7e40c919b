-- title: Each contact, and the child's next referral
-- description: One row per contact (its date, source, outcome and team) with the date of the
--   child's first referral on or after the contact date (null when there is none). Whether a
--   contact became a referral (that date within contact_referral_days of it, and on or before
--   as_of) is then a comparison on each row, not a search of the child's referrals every time.
-- tables: contacts, referrals
-- Each contact meets its child's referral dates as one list (a hash join), not by an ASOF join: the
-- same answers in a third of the time on the national extract (17.5 M contacts), because the ASOF
-- join sorts every contact with its columns by child first. The contact's and child's IDs are left
-- out: no question reads them, and they were half of what this table wrote. Not sorted by contact date:
-- the sort was 1 to 3 s of a 5 to 7 s step in national builds, and saved a question 20 ms (a two-year
-- scan of 17.5 M rows, 62 against 83 ms; a team's, 9 against 5 ms, is quicker unsorted).
WITH referral_dates AS (
    SELECT child_id, list(referral_date) AS dates FROM referrals GROUP BY child_id
)
SELECT c.contact_date, c.source, c.outcome, c.team_id,
       list_min(list_filter(r.dates, lambda d: d >= c.contact_date)) AS next_referral_date
FROM contacts AS c
LEFT JOIN referral_dates AS r ON r.child_id = c.child_id
