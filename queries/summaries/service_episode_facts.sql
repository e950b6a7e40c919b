-- title: Each service episode with its family and its referral's outcome
-- description: One row per service episode: its family (family_key: the child's family_id, else the
--   child alone; family_no numbers the families), its referral's closure date, and whether the child
--   had another referral dated 1 to 365 days after that closure (rereferred_within_365). Facts that
--   do not depend on the date a question asks about, used by the commissioned-services questions.
-- tables: service_episodes, children, referrals
WITH episodes AS (
    SELECT se.*, coalesce('F:' || c.family_id, 'C:' || se.child_id) AS family_key, r.closure_date AS referral_closure_date
    FROM service_episodes AS se
    LEFT JOIN children AS c ON c.child_id = se.child_id
    LEFT JOIN referrals AS r ON r.referral_id = se.referral_id AND r.closure_date IS NOT NULL
)
SELECT e.*, dense_rank() OVER (ORDER BY e.family_key) AS family_no,
       e.referral_closure_date IS NOT NULL AND EXISTS (
           SELECT 1 FROM referrals AS x
           WHERE x.child_id = e.child_id
             AND x.referral_date > e.referral_closure_date AND x.referral_date <= e.referral_closure_date + 365
       ) AS rereferred_within_365
FROM episodes AS e
