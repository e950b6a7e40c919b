"""The query engine: the registry, parameters, errors, and table availability."""

import datetime as dt
import re

import pytest

from queries.engine import BadParameter, TableUnavailable, UnknownQuery
from queries.registry import RegistryError, all_queries, in_dependency_order, parse_param, parse_sql_file, summaries
from schemas.contract import TABLES


def contract_tables_read(sql: str) -> set[str]:
    """The contract tables a piece of SQL reads: directly, or through a summary table or a macro."""
    used = {t for t in TABLES if re.search(rf"\b(FROM|JOIN)\s+{t}\b", sql, re.IGNORECASE)}
    for summary in summaries():
        if re.search(rf"\b(FROM|JOIN)\s+{summary.name}\b", sql, re.IGNORECASE):
            used |= set(summary.tables)
    for macro, reads in MACRO_TABLES.items():
        if macro + "(" in sql:
            used |= reads
    return used


def test_every_query_has_title_description_and_declares_its_tables():
    for query in all_queries().values():
        assert query.title and query.description, query.name
        declared = set(query.tables) | set(query.optional_tables)
        assert declared <= set(TABLES), query.name
        if query.sql:
            used = contract_tables_read(query.sql)
            assert used <= declared, f"{query.name} reads {used - declared} without declaring it"


def test_every_summary_table_has_title_description_and_declares_its_tables():
    assert {s.name for s in summaries()} >= {"child_factor_first", "cp_plan_teams", "referral_of_assessment"}
    for summary in summaries():
        assert summary.title and summary.description, summary.name
        assert contract_tables_read(summary.sql) == set(summary.tables), summary.name


STATUTORY_PLANS = {"cp_plans", "cin_plans", "looked_after"}
VISIT_STATUS = STATUTORY_PLANS | {"visits", "referrals"}
COMPLIANCE_EVENTS = {"assessments", "referrals", "section47", "cp_plans", "cp_reviews"}
COMPLIANCE_STATE = VISIT_STATUS | {"cp_plans", "referrals"}
MACRO_TABLES = {
    "statutory_plans": STATUTORY_PLANS,
    "plan_visit_status": VISIT_STATUS,
    "compliance_events": COMPLIANCE_EVENTS,
    "compliance_state": COMPLIANCE_STATE,
    "compliance_items": COMPLIANCE_EVENTS | COMPLIANCE_STATE,
    "compliance_measures": COMPLIANCE_EVENTS | COMPLIANCE_STATE | {"teams"},
    "visit_compliance_counts": VISIT_STATUS,
    "referral_flags": {"referrals", "teams"},
    "cohort_members": {"referrals", "teams", "children", "cp_plans"},
    "factor_subject": {"factor_codes"},
    "worker_caseload": VISIT_STATUS | {"workers"},
}


def test_macro_table_lists_are_true():
    from queries.registry import MACRO_DIR

    for macro, reads in MACRO_TABLES.items():
        sql = (MACRO_DIR / f"{macro}.sql").read_text()
        sql = sql.replace(f"MACRO {macro}(", "")  # its own name is not a use
        assert contract_tables_read(sql) == reads, macro


def test_macros_are_installed_after_the_macros_they_call():
    texts = {"uses_b": "SELECT * FROM b_macro()", "b_macro": "-- not uses_b( in a comment\nSELECT 1"}
    assert in_dependency_order(texts) == ["b_macro", "uses_b"]
    with pytest.raises(RegistryError, match="cycle"):
        in_dependency_order({"a": "SELECT b()", "b": "SELECT a()"})


def test_every_sql_parameter_is_declared_and_used():
    for query in all_queries().values():
        if not query.sql:
            continue
        used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", query.sql))
        declared = {p.name for p in query.params}
        assert used == declared, query.name


def test_header_without_title_is_rejected(tmp_path):
    bad = tmp_path / "no_title.sql"
    bad.write_text("-- description: something\nSELECT 1\n")
    with pytest.raises(RegistryError, match="title"):
        parse_sql_file(bad)


def test_param_parsing():
    p = parse_param("by str = practice_model ; how to group | choices: practice_model, team", "q")
    assert (p.name, p.type, p.default, p.description, p.choices) == (
        "by",
        "str",
        "practice_model",
        "how to group",
        ("practice_model", "team"),
    )
    assert parse_param("team_id str", "q").default == "required"
    with pytest.raises(RegistryError, match="unknown type"):
        parse_param("x datetime", "q")


def test_unknown_query(tiny_engine):
    with pytest.raises(UnknownQuery, match="no query named 'nope'"):
        tiny_engine.run("nope")


def test_unknown_parameter(tiny_engine):
    with pytest.raises(BadParameter, match="unknown parameter 'teem_id'"):
        tiny_engine.run("open_cases", teem_id="T1")


@pytest.mark.parametrize(("param", "value"), [("as_of", "31/03/2026"), ("as_of", "yesterday")])
def test_bad_date_parameter(tiny_engine, param, value):
    with pytest.raises(BadParameter, match="as_of must be a date"):
        tiny_engine.run("open_cases", **{param: value})


def test_bad_int_parameter(tiny_engine):
    with pytest.raises(BadParameter, match="months must be a int"):
        tiny_engine.run("referrals_by_month", months="twelve")


def test_parameters_are_bound_not_formatted(tiny_engine):
    # SQL in a parameter is just a team name that matches nothing.
    result = tiny_engine.run("open_cases", team_id="T1' OR '1'='1")
    assert result["open_cases"][0] == 0


def test_as_of_defaults_to_the_manifest_and_can_be_moved(tiny_engine):
    assert tiny_engine.as_of == dt.date(2026, 3, 31)
    # On 2025-07-01 R1, R2 and R3 were open (R1 closed later, in October).
    assert tiny_engine.run("open_cases", as_of="2025-07-01")["open_cases"][0] == 3


def test_as_of_without_manifest_is_the_latest_event(make_engine):
    engine = make_engine(manifest=None)
    assert engine.extract.as_of_source == "latest event date"
    assert engine.as_of == dt.date(2026, 3, 25)  # the latest event in the tiny extract: contact K11


def test_missing_optional_table_disables_only_what_needs_it(make_engine):
    engine = make_engine(drop=("cp_plans", "cp_reviews"))
    with pytest.raises(TableUnavailable, match="cp_plans table is not in this extract"):
        engine.run("children_on_cp_plans")
    assert engine.run("open_cases")["open_cases"][0] == 5


def test_wrong_type_disables_the_table_with_a_named_reason(make_engine):
    import polars as pl

    def dates_as_text(tables):
        tables["looked_after"] = tables["looked_after"].with_columns(pl.col("start_date").cast(pl.String))

    engine = make_engine(dates_as_text)
    with pytest.raises(TableUnavailable, match=r"looked_after\.start_date: must be a Parquet DATE .*found VARCHAR"):
        engine.run("looked_after_children")
    assert engine.run("referrals_last_12_months")["referrals"][0] == 7


def test_corrupt_parquet_disables_the_table(tiny_dir):
    from queries.engine import Engine
    from schemas.extract import open_extract

    (tiny_dir / "cp_plans.parquet").write_bytes(b"PAR1 this is not parquet")
    engine = Engine(open_extract(tiny_dir))
    assert engine.tables["cp_plans"].status == "unreadable"
    with pytest.raises(TableUnavailable, match="cp_plans table could not be read"):
        engine.run("children_on_cp_plans")
    assert engine.run("open_cases")["open_cases"][0] == 5
    engine.close()


def test_partitioned_folder_table(tiny_dir):
    """A table may be a folder of Parquet files, hive-partitioned or not."""
    import polars as pl

    from queries.engine import Engine
    from schemas.extract import open_extract

    referrals = pl.read_parquet(tiny_dir / "referrals.parquet")
    (tiny_dir / "referrals.parquet").unlink()
    for i, part in enumerate(referrals.partition_by("team_id")):
        folder = tiny_dir / "referrals"
        folder.mkdir(exist_ok=True)
        part.write_parquet(folder / f"part-{i}.parquet")
    engine = Engine(open_extract(tiny_dir))
    assert engine.run("open_cases")["open_cases"][0] == 5
    engine.close()


def test_in_memory_copy_and_parquet_views_give_identical_answers(tiny_dir):
    """A council-sized extract is copied into memory; the answers must not depend on it."""
    from queries.engine import Engine
    from queries.registry import all_queries
    from schemas.extract import open_extract

    in_memory = Engine(open_extract(tiny_dir), materialise=True)
    in_place = Engine(open_extract(tiny_dir), materialise=False)
    from queries.models.patterns import COHORT_QUERIES

    required = {"child_id": "C2", "team_id": "T2"}
    for query in all_queries().values():
        params = {p.name: required[p.name] for p in query.params if p.default == "required"}
        if query.name in COHORT_QUERIES:
            params["team_id"] = "T2"
        assert in_memory.run(query.name, **params).equals(in_place.run(query.name, **params)), query.name
    in_memory.close()
    in_place.close()
