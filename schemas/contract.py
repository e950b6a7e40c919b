"""The extract format (contract 1.1) as data: tables, columns, types, keys.

One declaration serves the generator, the validator and the query engine, so
they cannot drift apart. See docs/data-format.md for the same in prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_VERSION = "1.1"
# Manifests written before format 1.1 say `"contract": 1`; 1.1 only added optional tables, so
# every format-1 extract is also a format-1.1 extract.
READABLE_VERSIONS = ("1", "1.0", "1.1")


def readable_version(value: object) -> bool:
    """Whether a manifest's `contract` value is a format this ChildStat reads (1 or 1.1)."""
    return str(value) in READABLE_VERSIONS


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of: str, date, bool, float, int
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    core: bool  # only `children`: every source has it; a question refuses only when a table it needs is missing
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    description: str = ""
    # (column, referenced table, referenced column)
    foreign_keys: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse 'name:type[?]' words; a trailing ? marks a nullable column."""
    out = []
    for word in spec.split():
        name, typ = word.split(":")
        out.append(Column(name, typ.rstrip("?"), typ.endswith("?")))
    return tuple(out)


_CHILD = ("child_id", "children", "child_id")
_REFERRAL = ("referral_id", "referrals", "referral_id")
_WORKER = ("worker_id", "workers", "worker_id")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "children",
            True,
            _cols("child_id:str family_id:str? sex:str birth_date:date ethnicity:str? disability:bool?"),
            key=("child_id",),
            description="One row per child.",
        ),
        Table(
            "teams",
            False,
            _cols("team_id:str team_name:str service_area:str practice_model:str focus:str?"),
            key=("team_id",),
            description="One row per team.",
        ),
        Table(
            "workers",
            False,
            _cols(
                "worker_id:str worker_name:str? team_id:str role:str fte:float agency:bool "
                "start_date:date end_date:date?"
            ),
            key=("worker_id",),
            foreign_keys=(("team_id", "teams", "team_id"),),
            description="One row per worker.",
        ),
        Table(
            "referrals",
            False,
            _cols(
                "referral_id:str child_id:str referral_date:date source:str primary_need:str? "
                "nfa:bool team_id:str worker_id:str? closure_date:date? closure_reason:str?"
            ),
            key=("referral_id",),
            foreign_keys=(_CHILD, ("team_id", "teams", "team_id"), _WORKER),
            description="One row per referral (a CIN census CINdetails block).",
        ),
        Table(
            "assessments",
            False,
            _cols(
                "assessment_id:str referral_id:str child_id:str start_date:date "
                "authorised_date:date? worker_id:str? in_need:bool?"
            ),
            key=("assessment_id",),
            foreign_keys=(_REFERRAL, _CHILD, _WORKER),
            description="One row per child and family assessment.",
        ),
        Table(
            "factors",
            False,
            _cols("child_id:str referral_id:str? factor_code:str recorded_date:date source:str"),
            key=("child_id", "referral_id", "factor_code", "source"),
            foreign_keys=(_CHILD, _REFERRAL),
            description="One row per factor recorded for a child.",
        ),
        Table(
            "factor_codes",
            False,
            _cols("factor_code:str label:str subject:str"),
            key=("factor_code",),
            description="Local factor codes used in factors.",
        ),
        Table(
            "section47",
            False,
            _cols("s47_id:str referral_id:str child_id:str strategy_date:date icpc_date:date? icpc_not_required:bool"),
            key=("s47_id",),
            foreign_keys=(_REFERRAL, _CHILD),
            description="Section 47 enquiries.",
        ),
        Table(
            "cp_plans",
            False,
            _cols(
                "plan_id:str child_id:str referral_id:str? start_date:date end_date:date? "
                "initial_category:str latest_category:str"
            ),
            key=("plan_id",),
            foreign_keys=(_CHILD, _REFERRAL),
            description="Child protection plans.",
        ),
        Table(
            "cp_reviews",
            False,
            _cols("plan_id:str review_date:date"),
            foreign_keys=(("plan_id", "cp_plans", "plan_id"),),
            description="Child protection review conferences.",
        ),
        Table(
            "cin_plans",
            False,
            _cols("cin_plan_id:str child_id:str referral_id:str start_date:date end_date:date?"),
            key=("cin_plan_id",),
            foreign_keys=(_CHILD, _REFERRAL),
            description="Child in need plans.",
        ),
        Table(
            "looked_after",
            False,
            _cols(
                "episode_id:str child_id:str start_date:date end_date:date? legal_status:str "
                "placement_type:str weekly_cost:float?"
            ),
            key=("episode_id",),
            foreign_keys=(_CHILD,),
            description="Periods of care (SSDA903 episodes, simplified).",
        ),
        Table(
            "visits",
            False,
            _cols("visit_id:str child_id:str worker_id:str? visit_date:date visit_type:str seen_alone:bool?"),
            key=("visit_id",),
            foreign_keys=(_CHILD, _WORKER),
            description="Statutory and other visits.",
        ),
        Table(
            "services",
            False,
            _cols(
                "service_id:str service_name:str provider:str category:str commissioning:str "
                "unit_cost:float cost_unit:str"
            ),
            key=("service_id",),
            description="Externally commissioned services.",
        ),
        Table(
            "service_episodes",
            False,
            _cols(
                "service_episode_id:str service_id:str child_id:str referral_id:str? "
                "start_date:date end_date:date? exit_reason:str cost:float?"
            ),
            key=("service_episode_id",),
            foreign_keys=(("service_id", "services", "service_id"), _CHILD, _REFERRAL),
            description="A child's time with a commissioned service.",
        ),
        Table(
            "education",
            False,
            _cols(
                "child_id:str academic_year:int attendance_pct:float? suspensions:int "
                "permanent_exclusion:bool sen:str fsm:bool eal:bool alternative_provision:bool "
                "young_carer:bool young_parent:bool yot:bool"
            ),
            key=("child_id", "academic_year"),
            foreign_keys=(_CHILD,),
            description="One row per child and academic year.",
        ),
        Table(
            "neet_status",
            False,
            _cols("child_id:str recorded_date:date status:str"),
            foreign_keys=(_CHILD,),
            description="Education, employment or training status at 16-18.",
        ),
        Table(
            "worker_absence",
            False,
            _cols("worker_id:str month:date absence_days:float contracted_days:float"),
            foreign_keys=(_WORKER,),
            description="Monthly sickness absence.",
        ),
        Table(
            "contacts",
            False,
            _cols("contact_id:str child_id:str contact_date:date source:str outcome:str? team_id:str?"),
            key=("contact_id",),
            foreign_keys=(_CHILD, ("team_id", "teams", "team_id")),
            description="Contacts at the front door (Annex A List 1, SSD contacts). Format 1.1.",
        ),
        Table(
            "early_help",
            False,
            _cols("episode_id:str child_id:str start_date:date end_date:date? reason:str? outcome:str?"),
            key=("episode_id",),
            foreign_keys=(_CHILD,),
            description="Early help episodes (Annex A List 2, SSD early_help_episodes). Format 1.1.",
        ),
        Table(
            "cla_reviews",
            False,
            _cols("child_id:str review_date:date participation:str?"),
            key=("child_id", "review_date"),
            foreign_keys=(_CHILD,),
            description="Looked-after children's reviews (SSDA903 reviews, SSD cla_reviews). Format 1.1.",
        ),
        Table(
            "missing_episodes",
            False,
            _cols("child_id:str start_date:date end_date:date? missing_type:str return_interview_offered:bool?"),
            key=("child_id", "start_date"),
            foreign_keys=(_CHILD,),
            description="Times a child was missing or away from placement (SSDA903 missing, SSD missing). Format 1.1.",
        ),
        Table(
            "care_leavers",
            False,
            _cols(
                "child_id:str recorded_date:date in_touch:str activity:str? accommodation:str? "
                "accommodation_suitable:bool?"
            ),
            key=("child_id", "recorded_date"),
            foreign_keys=(_CHILD,),
            description="Care leavers' latest contact, activity and accommodation (SSDA903 OC3, "
            "Annex A List 9, SSD care_leavers). Format 1.1.",
        ),
        Table(
            "uasc",
            False,
            _cols("child_id:str ceased_date:date?"),
            key=("child_id",),
            foreign_keys=(_CHILD,),
            description="Unaccompanied asylum-seeking children, and when that status ended (SSDA903 UASC). Format 1.1.",
        ),
    ]
}

CORE_TABLES = [name for name, t in TABLES.items() if t.core]
OPTIONAL_TABLES = [name for name, t in TABLES.items() if not t.core]
