-- title: Each service episode on a closed episode of need with a plan or care, with its stratum
-- description: One row per service episode whose referral is in closed_referral_strata: service_episode_id,
--   referral_id, family_no (the referral's, from closed_referral_strata), service_id,
--   start_date, first_for_referral (the service's first episode on that referral, by start date:
--   counting these among the episodes started by a date counts the referrals the service was used
--   on), and the referral's kind_from, closure_date, stratum (stratum_no and its primary_need,
--   age_band, factor_band, service_area) and success. The service comparison counts each service's
--   episodes and referrals per stratum from it without joining millions of referrals on every question.
-- tables: service_episodes, referrals, factors, children, teams, cin_plans, cp_plans, looked_after, assessments
SELECT se.service_episode_id, se.referral_id, s.family_no, se.service_id, se.start_date,
       row_number() OVER (PARTITION BY se.service_id, se.referral_id ORDER BY se.start_date, se.service_episode_id) = 1
           AS first_for_referral,
       s.kind_from, s.closure_date, s.stratum_no, s.primary_need, s.age_band, s.factor_band, s.service_area, s.success
FROM service_episodes AS se
JOIN closed_referral_strata AS s ON s.referral_id = se.referral_id
