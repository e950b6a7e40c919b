"""Checks within one table, one small rule each: code lists, ranges, date order, factor codes.

A rule is a function from the RuleContext to a Polars expression that is True where a row
passes; a missing value passes (whether a value may be missing is the contract's `nullable`,
checked separately). Rules are registered with `@row_rule(table, column, check)` and run by
Pandera (see `table_schema`). Not-null and unique keys come straight from schemas/contract.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from schemas.codes import cin_factor_year, codes, retired
from schemas.contract import TABLES
from schemas.rules.base import ERROR, WARNING, RuleContext

RuleTest = Callable[[RuleContext], pl.Expr]


@dataclass(frozen=True)
class RowRule:
    """One check on the rows of one table."""

    table: str
    column: str  # the column reported, or a rule name when the rule reads several columns
    check: str
    test: RuleTest
    columns: tuple[str, ...]  # every column the rule reads
    severity: str = ERROR

    @property
    def name(self) -> str:
        """A unique name, used to find the rule again in Pandera's failure cases."""
        return f"{self.table}.{self.column}: {self.check}"

    def expr(self, ctx: RuleContext) -> pl.Expr:
        """True where a row passes; a null result passes."""
        return self.test(ctx).fill_null(True).alias("passes")


ROW_RULES: list[RowRule] = []


def row_rule(table: str, column: str, check: str, columns: tuple[str, ...] = (), severity: str = ERROR):
    """Register the decorated function as a rule on `table`."""

    def register(test: RuleTest) -> RuleTest:
        ROW_RULES.append(RowRule(table, column, check, test, columns or (column,), severity))
        return test

    return register


def rules_for(table: str) -> list[RowRule]:
    """The registered rules on one table."""
    return [r for r in ROW_RULES if r.table == table]


# --- Code lists (schemas/codes.toml) --------------------------------------------------------

CODE_LISTS: dict[tuple[str, str], tuple[str, str]] = {
    ("children", "sex"): ("sex", "the sex codes"),
    ("children", "ethnicity"): ("ethnicity", "the DfE ethnicity codes"),
    ("teams", "service_area"): ("service_area", "the service areas"),
    ("teams", "practice_model"): ("practice_model", "the practice models"),
    ("workers", "role"): ("worker_role", "the worker roles"),
    ("referrals", "source"): ("referral_source", "the CIN referral source codes"),
    ("referrals", "primary_need"): ("primary_need", "the CIN primary need codes N0-N9"),
    ("referrals", "closure_reason"): ("closure_reason", "the CIN closure reasons RC1-RC9"),
    ("factors", "source"): ("factor_source", "the factor sources"),
    ("factor_codes", "subject"): ("factor_subject", "the factor subjects"),
    ("cp_plans", "initial_category"): ("cp_category", "the CP plan categories"),
    ("cp_plans", "latest_category"): ("cp_category", "the CP plan categories"),
    ("visits", "visit_type"): ("visit_type", "the visit types"),
    ("services", "category"): ("service_category", "the service categories"),
    ("services", "commissioning"): ("commissioning", "the commissioning types"),
    ("services", "cost_unit"): ("cost_unit", "the cost units"),
    ("service_episodes", "exit_reason"): ("exit_reason", "the exit reasons"),
    ("education", "sen"): ("sen", "the SEN statuses"),
    ("neet_status", "status"): ("neet_status", "the NEET statuses"),
    ("contacts", "source"): ("referral_source", "the CIN referral source codes"),
    ("contacts", "outcome"): ("contact_outcome", "the contact outcomes"),
    ("missing_episodes", "missing_type"): ("missing_type", "M (missing) or A (away)"),
    ("cla_reviews", "participation"): ("cla_review_participation", "the SSDA903 participation codes PN0-PN7"),
    ("care_leavers", "in_touch"): ("care_leaver_in_touch", "the SSDA903 'in touch' codes"),
    ("care_leavers", "activity"): ("care_leaver_activity", "the SSDA903 care leaver activity codes"),
    ("care_leavers", "accommodation"): ("care_leaver_accommodation", "the SSDA903 accommodation codes"),
}


def _code_list_rule(table: str, column: str, list_name: str, label: str) -> None:
    allowed = codes(list_name)
    words = ", ".join(allowed) if len(allowed) <= 6 else label
    row_rule(table, column, f"must be one of {words}")(lambda ctx: pl.col(column).is_in(allowed))


for (_table, _column), (_list, _label) in CODE_LISTS.items():
    _code_list_rule(_table, _column, _list, _label)


# --- SSDA903 episode codes (codes.toml: current codes, and retired ones accepted with a warning) ---

SSDA903_LISTS: dict[str, tuple[str, str]] = {  # looked_after column: (code list, words)
    "legal_status": ("ssda903_legal_status", "legal status"),
    "placement_type": ("ssda903_placement", "placement type"),
}


def _ssda903_rules(column: str, list_name: str, words: str) -> None:
    current, old = codes(list_name), retired(list_name)
    row_rule("looked_after", column, f"must be an SSDA903 {words} code")(
        lambda ctx: pl.col(column).is_in(current + old)
    )
    if old:  # a list with no retired codes needs no warning rule
        row_rule("looked_after", column, f"is a retired SSDA903 {words} code ({', '.join(old)})", severity=WARNING)(
            lambda ctx: ~pl.col(column).is_in(old)
        )


for _column, (_list, _words) in SSDA903_LISTS.items():
    _ssda903_rules(_column, _list, _words)


# --- Identifiers ----------------------------------------------------------------------------

FLOAT_LOOKING_ID = r"^[+-]?\d+\.\d+$|^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"


def _identifier_rule(table: str, column: str) -> None:
    row_rule(table, column, "must not look like a float (e.g. 1234.0): identifiers are strings")(
        lambda ctx: ~pl.col(column).str.contains(FLOAT_LOOKING_ID)
    )


for _spec in TABLES.values():
    for _col in _spec.columns:
        if _col.type == "str" and _col.name.endswith("_id"):
            _identifier_rule(_spec.name, _col.name)


# --- Ranges ---------------------------------------------------------------------------------


@row_rule("workers", "fte", "must be more than 0 and at most 1")
def fte_in_range(ctx: RuleContext) -> pl.Expr:
    return (pl.col("fte") > 0) & (pl.col("fte") <= 1)


@row_rule("education", "attendance_pct", "must be between 0 and 100")
def attendance_is_a_percentage(ctx: RuleContext) -> pl.Expr:
    return pl.col("attendance_pct").is_between(0, 100)


@row_rule("education", "suspensions", "must not be negative")
def suspensions_not_negative(ctx: RuleContext) -> pl.Expr:
    return pl.col("suspensions") >= 0


@row_rule("looked_after", "weekly_cost", "must not be negative")
def weekly_cost_not_negative(ctx: RuleContext) -> pl.Expr:
    return pl.col("weekly_cost") >= 0


@row_rule("services", "unit_cost", "must not be negative")
def unit_cost_not_negative(ctx: RuleContext) -> pl.Expr:
    return pl.col("unit_cost") >= 0


@row_rule("service_episodes", "cost", "must not be negative")
def episode_cost_not_negative(ctx: RuleContext) -> pl.Expr:
    return pl.col("cost") >= 0


@row_rule("worker_absence", "absence_days", "must not be negative")
def absence_days_not_negative(ctx: RuleContext) -> pl.Expr:
    return pl.col("absence_days") >= 0


@row_rule("worker_absence", "contracted_days", "must be more than 0")
def contracted_days_positive(ctx: RuleContext) -> pl.Expr:
    return pl.col("contracted_days") > 0


@row_rule("worker_absence", "month", "must be the 1st of a month")
def absence_month_is_first_of_month(ctx: RuleContext) -> pl.Expr:
    return pl.col("month").dt.day() == 1


# --- Date order within a row ----------------------------------------------------------------

DATE_ORDER: list[tuple[str, str, str]] = [  # (table, later date, earlier date)
    ("workers", "end_date", "start_date"),
    ("referrals", "closure_date", "referral_date"),
    ("assessments", "authorised_date", "start_date"),
    ("section47", "icpc_date", "strategy_date"),
    ("cp_plans", "end_date", "start_date"),
    ("cin_plans", "end_date", "start_date"),
    ("looked_after", "end_date", "start_date"),
    ("service_episodes", "end_date", "start_date"),
]


def _date_order_rule(table: str, later: str, earlier: str) -> None:
    row_rule(table, later, f"must be on or after {earlier}", columns=(later, earlier))(
        lambda ctx: pl.col(later) >= pl.col(earlier)
    )


for _table, _later, _earlier in DATE_ORDER:
    _date_order_rule(_table, _later, _earlier)


@row_rule(
    "referrals",
    "closure_reason",
    "must be present exactly when closure_date is present",
    columns=("closure_reason", "closure_date"),
)
def closure_reason_with_closure_date(ctx: RuleContext) -> pl.Expr:
    return pl.col("closure_reason").is_null() == pl.col("closure_date").is_null()


# --- Factor codes ---------------------------------------------------------------------------


def cin_codes_all_kinds() -> set[str]:
    """Every code the CIN census knows, current, retired or invalid (a local code must avoid them)."""
    year = cin_factor_year()
    return set(year["codes"]) | set(year.get("retired", [])) | set(year.get("invalid", []))


@row_rule("factors", "factor_code", "must be a CIN factor code or a local code declared in factor_codes")
def factor_code_known(ctx: RuleContext) -> pl.Expr:
    return pl.col("factor_code").is_in(sorted(cin_codes_all_kinds() | ctx.local_factor_codes))


@row_rule(
    "factors",
    "factor_code",
    "is a retired CIN code (18A/19A: use 18B/18C, 19B/19C)",
    severity=WARNING,
)
def factor_code_not_retired(ctx: RuleContext) -> pl.Expr:
    return ~pl.col("factor_code").is_in(sorted(cin_factor_year().get("retired", [])))


@row_rule("factors", "factor_code", "is not a valid CIN factor code (8A)")
def factor_code_not_invalid(ctx: RuleContext) -> pl.Expr:
    return ~pl.col("factor_code").is_in(sorted(cin_factor_year().get("invalid", [])))


@row_rule("factor_codes", "factor_code", "must not clash with a CIN factor code")
def local_code_not_a_cin_code(ctx: RuleContext) -> pl.Expr:
    return ~pl.col("factor_code").is_in(sorted(cin_codes_all_kinds()))
