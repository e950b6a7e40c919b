-- Every referral dated in the 12 months to as_of (after as_of - 365 days, up to as_of), with its
-- team's practice model and whether it is a re-referral: the child had another referral (any,
-- NFA included) 1 to 365 days before it (DfE definition; the referral_facts summary table).
CREATE OR REPLACE MACRO referral_flags(as_of) AS TABLE
SELECT
    r.referral_id, r.child_id, r.referral_date, r.team_id, t.practice_model, r.primary_need, r.nfa,
    r.closure_date, r.is_rereferral
FROM referral_facts AS r
JOIN teams AS t ON t.team_id = r.team_id
WHERE r.referral_date > as_of - 365
  AND r.referral_date <= as_of;
