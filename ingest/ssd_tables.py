"""The Standard Safeguarding Dataset (SSD) tables as data: what each is read for, and what is not.

`USED` names, for each SSD table the importer reads, the contract tables it feeds, the columns
it cannot do without (`required`) and every column it reads (`reads`, the SSD field names of
objects/ssd_*.yml; tests/test_ingest_ssd.py checks each exists in the definitions). A column
read that is not declared here is a programming error (ssd_files.Record refuses it).
`NOT_USED` says why each other SSD table is read but not used. Field names are matched in
lower case; files are recognised by name (`ssd_person.csv`, `LA123_ssd_person_2024.parquet`)
or, failing that, by their columns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Use:
    """How one SSD table is used: the contract tables it feeds, its key columns, every column read."""

    fills: tuple[str, ...]
    required: tuple[str, ...]
    reads: tuple[str, ...]


def use(fills: str, required: str, reads: str) -> Use:
    """A Use from space-separated names."""
    return Use(tuple(fills.split()), tuple(required.split()), tuple(reads.split()))


USED: dict[str, Use] = {
    "ssd_person": use(
        "children",
        "pers_person_id",
        "pers_person_id pers_sex pers_ethnicity pers_dob pers_expected_dob",
    ),
    "ssd_disability": use(
        "children",
        "disa_person_id",
        "disa_person_id disa_disability_code",
    ),
    "ssd_department": use(
        "teams",
        "dept_team_id",
        "dept_team_id dept_team_name",
    ),
    "ssd_professionals": use(
        "workers",
        "prof_professional_id",
        "prof_professional_id prof_staff_id prof_professional_name prof_professional_job_title "
        "prof_professional_department prof_full_time_equivalency prof_agency_worker_flag",
    ),
    "ssd_involvements": use(
        "workers referrals",
        "invo_professional_id invo_person_id",
        "invo_professional_id invo_professional_role_id invo_professional_team invo_involvement_start_date "
        "invo_involvement_end_date invo_person_id invo_referral_id",
    ),
    "ssd_contacts": use(
        "contacts",
        "cont_person_id cont_contact_date",
        "cont_contact_id cont_person_id cont_contact_date cont_contact_source_code cont_contact_source_desc "
        "cont_contact_outcome_json",
    ),
    "ssd_cin_episodes": use(
        "referrals",
        "cine_person_id cine_referral_date",
        "cine_referral_id cine_person_id cine_referral_date cine_cin_primary_need_code "
        "cine_referral_source_code cine_referral_source_desc cine_referral_outcome_json cine_referral_nfa "
        "cine_close_reason cine_close_date cine_referral_team cine_referral_worker_id",
    ),
    "ssd_cin_assessments": use(
        "assessments",
        "cina_person_id cina_assessment_start_date",
        "cina_assessment_id cina_person_id cina_referral_id cina_assessment_start_date "
        "cina_assessment_auth_date cina_assessment_outcome_json cina_assessment_outcome_nfa "
        "cina_assessment_worker_id",
    ),
    "ssd_assessment_factors": use(
        "factors",
        "cinf_assessment_id cinf_assessment_factors_json",
        "cinf_table_id cinf_assessment_id cinf_assessment_factors_json",
    ),
    "ssd_cin_plans": use(
        "cin_plans",
        "cinp_person_id cinp_cin_plan_start_date",
        "cinp_cin_plan_id cinp_referral_id cinp_person_id cinp_cin_plan_start_date cinp_cin_plan_end_date",
    ),
    "ssd_s47_enquiry": use(
        "section47",
        "s47e_person_id s47e_s47_start_date",
        "s47e_s47_enquiry_id s47e_referral_id s47e_person_id s47e_s47_start_date s47e_s47_end_date "
        "s47e_s47_nfa s47e_s47_outcome_json",
    ),
    "ssd_initial_cp_conference": use(
        "section47",
        "icpc_icpc_date",
        "icpc_s47_enquiry_id icpc_person_id icpc_icpc_date",
    ),
    "ssd_cp_plans": use(
        "cp_plans",
        "cppl_person_id cppl_cp_plan_start_date",
        "cppl_cp_plan_id cppl_referral_id cppl_person_id cppl_cp_plan_start_date cppl_cp_plan_end_date "
        "cppl_cp_plan_initial_category cppl_cp_plan_latest_category",
    ),
    "ssd_cp_reviews": use(
        "cp_reviews",
        "cppr_cp_plan_id cppr_cp_review_date",
        "cppr_cp_review_id cppr_cp_plan_id cppr_cp_review_date",
    ),
    "ssd_cin_visits": use(
        "visits",
        "cinv_person_id cinv_cin_visit_date",
        "cinv_cin_visit_id cinv_person_id cinv_cin_visit_date cinv_cin_visit_seen cinv_cin_visit_seen_alone",
    ),
    "ssd_cp_visits": use(
        "visits",
        "cppv_person_id cppv_cp_visit_date",
        "cppv_cp_visit_id cppv_person_id cppv_cp_visit_date cppv_cp_visit_seen cppv_cp_visit_seen_alone",
    ),
    "ssd_cla_visits": use(
        "visits",
        "clav_person_id clav_cla_visit_date",
        "clav_cla_visit_id clav_person_id clav_cla_visit_date clav_cla_visit_seen clav_cla_visit_seen_alone",
    ),
    "ssd_cla_episodes": use(
        "looked_after",
        "clae_person_id clae_cla_episode_start_date",
        "clae_cla_episode_id clae_person_id clae_cla_episode_start_date clae_cla_episode_ceased_date "
        "clae_cla_id clae_cla_placement_id",
    ),
    "ssd_cla_placement": use(
        "looked_after",
        "clap_cla_placement_type",
        "clap_cla_placement_id clap_cla_placement_start_date clap_cla_placement_end_date "
        "clap_cla_placement_type clap_cla_placement_postcode clap_cla_id clap_person_id",
    ),
    "ssd_legal_status": use(
        "looked_after",
        "lega_person_id lega_legal_status",
        "lega_person_id lega_legal_status lega_legal_status_start_date lega_legal_status_end_date",
    ),
    "ssd_cla_reviews": use(
        "cla_reviews",
        "clar_cla_id clar_cla_review_date",
        "clar_cla_review_id clar_cla_id clar_cla_review_date clar_cla_review_cancelled clar_cla_review_participation",
    ),
    "ssd_missing": use(
        "missing_episodes",
        "miss_person_id miss_missing_episode_start_date",
        "miss_person_id miss_missing_episode_start_date miss_missing_episode_end_date "
        "miss_missing_episode_type miss_missing_rhi_offered",
    ),
    "ssd_care_leavers": use(
        "care_leavers",
        "clea_person_id",
        "clea_person_id clea_care_leaver_in_touch clea_care_leaver_latest_contact "
        "clea_care_leaver_accommodation clea_care_leaver_accom_suitable clea_care_leaver_activity "
        "clea_pathway_plan_review_date",
    ),
    "ssd_early_help_episodes": use(
        "early_help",
        "earl_person_id earl_episode_start_date",
        "earl_episode_id earl_person_id earl_episode_start_date earl_episode_end_date earl_episode_reason "
        "earl_episode_end_reason",
    ),
    "ssd_immigration_status": use(
        "uasc",
        "immi_person_id immi_immigration_status",
        "immi_person_id immi_immigration_status immi_immigration_status_end_date",
    ),
}

# Not an SSD field: read from ssd_cla_placement when a council adds it, so a placement cost is kept.
LOCAL_COLUMNS: dict[str, tuple[str, ...]] = {"ssd_cla_placement": ("clap_cla_placement_weekly_cost",)}

NOT_USED: dict[str, str] = {
    "ssd_address": "addresses: the contract holds no addresses",
    "ssd_api_data_staging": "an SSD administration table",
    "ssd_version_log": "an SSD administration table",
    "ssd_cla_care_plan": "permanence plans: the contract has no table for them",
    "ssd_cla_convictions": "the contract has no table for convictions",
    "ssd_cla_health": "health checks: the contract has no table for them",
    "ssd_cla_immunisations": "the contract has no table for immunisations",
    "ssd_cla_substance_misuse": "the contract has no table for substance misuse",
    "ssd_cla_previous_permanence": "the contract has no table for previous permanence",
    "ssd_sdq_scores": "SDQ scores: the contract has no table for them",
    "ssd_permanence": "adoption and permanence decisions: the contract has no table for them",
    "ssd_pre_proceedings": "pre-proceedings: the contract has no table for them",
    "ssd_ehcp_requests": "EHCP requests: the contract has no table for them",
    "ssd_ehcp_assessment": "EHCP assessments: the contract has no table for them",
    "ssd_ehcp_named_plan": "EHCP plans: the contract has no table for them",
    "ssd_ehcp_active_plans": "EHCP plans: the contract has no table for them",
    "ssd_sen_need": "SEN needs: the contract has no table for them",
    "ssd_send": "SEND identifiers (UPN, ULN): never imported",
    "ssd_family": "family membership: not used",
    "ssd_linked_identifiers": "other identifiers of a person: never imported",
    "ssd_mother": "mothers and their children: the contract has no table for them",
    "ssd_voice_of_child": "the child's answers: the contract has no table for them",
    "ssd_s251_finance": "s251 finance (placeholder fields in the SSD): the contract has no table for them",
}

# Other names met for the same table (the SSD's own foreign key says ssd_cla_placements).
ALIASES = {"ssd_cla_placements": "ssd_cla_placement", "ssd_early_help": "ssd_early_help_episodes"}

KNOWN = set(USED) | set(NOT_USED)

# Contact outcome flags (cont_contact_outcome_json), most telling first: the first outcome whose
# flag is set wins, so a contact that led to a referral and was also given advice is a referral.
# A flag set that none of these names is `other`; no flag set (or no JSON) leaves the outcome empty.
CONTACT_OUTCOME_FLAGS: list[tuple[str, tuple[str, ...]]] = [
    ("referral", ("NEW_REFERRAL_FLAG", "EXISTING_REFERRAL_FLAG", "CP_ENQUIRY_FLAG")),
    ("early_help", ("EH_REFERRAL_FLAG", "EARLY_HELP_FLAG", "EARLY_HELP_REFERRAL_FLAG", "STEP_DOWN_TO_EH_FLAG")),
    ("advice", ("ADVICE_FLAG",)),
    ("no_further_action", ("NFA_FLAG",)),
]
# The SSD's contact_outcome category (a plain value instead of the JSON), and close words.
CONTACT_OUTCOME_WORDS = {
    "no further action": "no_further_action",
    "nfa": "no_further_action",
    "information and advice": "advice",
    "advice and information": "advice",
    "advice": "advice",
    "eh referral": "early_help",
    "early help referral": "early_help",
    "early help": "early_help",
    "step-down to early help": "early_help",
    "cin referral": "referral",
    "referral": "referral",
    "referral to children's social care": "referral",
    "other": "other",
}

# ssd_cla_episodes holds no legal status: it is the one in ssd_legal_status open on the episode's start.
LEGAL_STATUS_WORDS = {
    "interim care order": "C1",
    "full care order": "C2",
    "care order": "C2",
    "freeing order granted": "D1",
    "placement order granted": "E1",
    "single period of accommodation under section 20": "V2",
    "accommodated under section 20": "V2",
    "section 20": "V2",
    "emergency protection order": "L2",
    "under police protection": "L1",
}

MISSING_WORDS = {"missing": "M", "missing from care": "M", "away": "A", "absent": "A", "away from placement": "A"}
IN_TOUCH_WORDS = {"yes": "YES", "y": "YES", "in touch": "YES", "no": "NO", "n": "NO", "not in touch": "NO"}
UASC_WORDS = ("unaccompanied asylum", "uasc")  # an immigration status naming either is UASC
NOT_APPLICABLE = {"na", "n/a", "not applicable"}  # a yes/no column's "does not apply": left empty

# Involvement roles that hold a case (the worker a referral is allocated to); others (IRO, PA) only
# when a case has no such involvement.
CASE_ROLES = ("allocated", "social worker", "case worker", "key worker", "caseworker")

WORKER_ROLE_WORDS = [  # first match wins, on the lower-cased job title
    (("manager",), "team_manager"),
    (("senior", "advanced practitioner", "consultant social worker"), "senior_practitioner"),
    (("social worker", "social work"), "social_worker"),
    (("family practitioner", "family support", "family worker", "early help"), "family_practitioner"),
]
