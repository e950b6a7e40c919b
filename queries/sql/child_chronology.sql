-- title: Child's chronology
-- description: One child's social care history on one timeline, oldest first: referrals and
--   their closure, assessments, S47 enquiries and ICPCs, CP and CIN plans, CP reviews, periods
--   of care, visits and commissioned services. Identified by the pseudonymous child ID.
-- tables: referrals, workers
-- optional_tables: assessments, section47, cp_plans, cp_reviews, cin_plans, looked_after, visits, services, service_episodes
-- access: child-level
-- roles: analyst, team_manager, social_worker
-- param: child_id str ; the child's pseudonymous ID
-- param: as_of date = as_of ; nothing after this date is shown
WITH events AS (
    SELECT referral_date AS event_date, 'Referral' AS event,
           'From ' || code_label('referral_source', source)
               || coalesce('; need: ' || code_label('primary_need', primary_need), '')
               || CASE WHEN nfa THEN '; no further action' ELSE '' END AS detail,
           worker_id, team_id
    FROM referrals WHERE child_id = $child_id
    UNION ALL
    SELECT closure_date, 'Case closed', code_label('closure_reason', closure_reason), worker_id, team_id
    FROM referrals WHERE child_id = $child_id AND closure_date IS NOT NULL AND NOT nfa
    UNION ALL
    SELECT start_date, 'Assessment started', 'Assessment ' || assessment_id, worker_id, NULL
    FROM assessments WHERE child_id = $child_id
    UNION ALL
    SELECT authorised_date, 'Assessment authorised',
           'Assessment ' || assessment_id || CASE WHEN in_need THEN ': child in need'
                                                 WHEN NOT in_need THEN ': not in need' ELSE '' END,
           worker_id, NULL
    FROM assessments WHERE child_id = $child_id AND authorised_date IS NOT NULL
    UNION ALL
    SELECT strategy_date, 'S47 enquiry', 'Strategy discussion, S47 ' || s47_id, NULL, NULL
    FROM section47 WHERE child_id = $child_id
    UNION ALL
    SELECT icpc_date, 'ICPC', 'Initial child protection conference, S47 ' || s47_id, NULL, NULL
    FROM section47 WHERE child_id = $child_id AND icpc_date IS NOT NULL
    UNION ALL
    SELECT start_date, 'CP plan started', 'Category: ' || code_label('cp_category', initial_category), NULL, NULL
    FROM cp_plans WHERE child_id = $child_id
    UNION ALL
    SELECT end_date, 'CP plan ended', 'Latest category: ' || code_label('cp_category', latest_category), NULL, NULL
    FROM cp_plans WHERE child_id = $child_id AND end_date IS NOT NULL
    UNION ALL
    SELECT v.review_date, 'CP review', 'Review conference, plan ' || p.plan_id, NULL, NULL
    FROM cp_reviews AS v JOIN cp_plans AS p ON p.plan_id = v.plan_id WHERE p.child_id = $child_id
    UNION ALL
    SELECT start_date, 'CIN plan started', 'CIN plan ' || cin_plan_id, NULL, NULL
    FROM cin_plans WHERE child_id = $child_id
    UNION ALL
    SELECT end_date, 'CIN plan ended', 'CIN plan ' || cin_plan_id, NULL, NULL
    FROM cin_plans WHERE child_id = $child_id AND end_date IS NOT NULL
    UNION ALL
    SELECT start_date, 'Became looked after',
           'Legal status ' || legal_status || ', placement ' || placement_type, NULL, NULL
    FROM looked_after WHERE child_id = $child_id
    UNION ALL
    SELECT end_date, 'Care episode ended', 'Episode ' || episode_id, NULL, NULL
    FROM looked_after WHERE child_id = $child_id AND end_date IS NOT NULL
    UNION ALL
    SELECT visit_date, 'Visit',
           code_label('visit_type', visit_type) || ' visit' || CASE WHEN seen_alone THEN ', seen alone' ELSE '' END,
           worker_id, NULL
    FROM visits WHERE child_id = $child_id
    UNION ALL
    SELECT e.start_date, 'Service started', s.service_name || ' (' || s.provider || ')', NULL, NULL
    FROM service_episodes AS e JOIN services AS s ON s.service_id = e.service_id WHERE e.child_id = $child_id
    UNION ALL
    SELECT e.end_date, 'Service ended', s.service_name || ': ' || e.exit_reason, NULL, NULL
    FROM service_episodes AS e JOIN services AS s ON s.service_id = e.service_id
    WHERE e.child_id = $child_id AND e.end_date IS NOT NULL
)
SELECT e.event_date, e.event, e.detail, e.worker_id, e.team_id, w.worker_name
FROM events AS e
LEFT JOIN workers AS w ON w.worker_id = e.worker_id
WHERE e.event_date <= $as_of
ORDER BY e.event_date,
    list_position(['Referral', 'S47 enquiry', 'Assessment started', 'ICPC', 'CP plan started', 'CIN plan started',
                   'Became looked after', 'Visit', 'CP review', 'Service started', 'Service ended',
                   'Assessment authorised', 'CIN plan ended', 'CP plan ended', 'Care episode ended', 'Case closed'],
                  e.event)
