-- title: Each service episode with its family and its referral's outcome
-- description: One row per service episode: its family (family_key: the child's family_id, else the
--   child alone; family_no numbers the families), its referral's closure date, whether the child
--   had another referral dated 1 to 365 days after that closure (rereferred_within_365),
--   cannot_be_judged (a new referral within a year of that closure could not be recorded here: the
--   child died (closure reason RC2), moved to another council (RC5) or to adult services (RC6), or
--   turned 18 within 365 days of the closure),
--   first_for_child (the child's first episode of the service, by start date: counting these among
--   the episodes started by a date counts the children) and booking_no (its family booking: episodes
--   of one service for one family, in start order, each starting on or before the latest end of the
--   earlier ones, an episode with no end running on), with the booking's last start, episodes and
--   episodes with a recorded cost (booking_last_start, booking_episodes, booking_recorded). Facts that do not depend on the date a question
--   asks about (a booking's episodes started by any date are the first ones of the booking), used by
--   the commissioned-services questions.
-- tables: service_episodes, children, referrals
WITH episodes AS (
    SELECT se.*, coalesce('F:' || c.family_id, 'C:' || se.child_id) AS family_key, r.closure_date AS referral_closure_date,
           coalesce(r.closure_reason IN ('RC2', 'RC5', 'RC6'), false)
               OR coalesce(c.birth_date + INTERVAL 18 YEAR <= r.closure_date + 365, false) AS cannot_be_judged
    FROM service_episodes AS se
    LEFT JOIN children AS c ON c.child_id = se.child_id
    LEFT JOIN referrals AS r ON r.referral_id = se.referral_id AND r.closure_date IS NOT NULL
),
numbered AS (
    SELECT e.*, dense_rank() OVER (ORDER BY e.family_key) AS family_no,
           e.referral_closure_date IS NOT NULL AND EXISTS (
               SELECT 1 FROM referrals AS x
               WHERE x.child_id = e.child_id
                 AND x.referral_date > e.referral_closure_date AND x.referral_date <= e.referral_closure_date + 365
           ) AS rereferred_within_365
    FROM episodes AS e
),
runs AS (
    SELECT *,
           CASE WHEN start_date <= max(coalesce(end_date, 'infinity'::DATE)) OVER (
                    PARTITION BY family_no, service_id ORDER BY start_date, service_episode_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                THEN 0 ELSE 1 END AS new_booking,
           child_id IS NOT NULL AND row_number() OVER (
               PARTITION BY child_id, service_id ORDER BY start_date, service_episode_id) = 1 AS first_for_child
    FROM numbered
),
bookings AS (
    SELECT * EXCLUDE (new_booking),
           sum(new_booking) OVER (ORDER BY family_no, service_id, start_date, service_episode_id
                                  ROWS UNBOUNDED PRECEDING)::BIGINT AS booking_no
    FROM runs
)
SELECT *,
       max(start_date) OVER booking AS booking_last_start,
       count(*) OVER booking AS booking_episodes,
       count(cost) OVER booking AS booking_recorded
FROM bookings
WINDOW booking AS (PARTITION BY booking_no)
