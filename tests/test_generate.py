"""Tests of the sample-data generator: determinism, contract shape and rules, planted patterns.

Rules are checked with DuckDB on small generated extracts (one of them split into part files);
the realism and planted patterns are measured on the shipped sample in sample_data/, using a
working-day calendar built here independently from the `holidays` package.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import holidays
import pyarrow.parquet as pq
import pytest

from sample_data import _front_door, _records
from sample_data.generate import DEFAULT_SEED, SHIPPED_CHILDREN, generate, main
from schemas.codes import cin_factor_codes, codes
from schemas.contract import TABLES

SHIPPED = Path(__file__).resolve().parent.parent / "sample_data"
AS_OF = "DATE '2026-03-31'"
ARROW_TYPE = {
    "str": ("string", "large_string"),
    "date": ("date32[day]",),
    "bool": ("bool",),
    "float": ("double",),
    "int": ("int64",),
}
CODE_COLUMNS = [  # (table, column, code list)
    ("children", "sex", "sex"),
    ("children", "ethnicity", "ethnicity"),
    ("teams", "service_area", "service_area"),
    ("teams", "practice_model", "practice_model"),
    ("workers", "role", "worker_role"),
    ("referrals", "source", "referral_source"),
    ("referrals", "primary_need", "primary_need"),
    ("referrals", "closure_reason", "closure_reason"),
    ("factors", "source", "factor_source"),
    ("cp_plans", "initial_category", "cp_category"),
    ("cp_plans", "latest_category", "cp_category"),
    ("visits", "visit_type", "visit_type"),
    ("services", "category", "service_category"),
    ("services", "commissioning", "commissioning"),
    ("services", "cost_unit", "cost_unit"),
    ("service_episodes", "exit_reason", "exit_reason"),
    ("education", "sen", "sen"),
    ("neet_status", "status", "neet_status"),
    ("factor_codes", "subject", "factor_subject"),
    ("contacts", "source", "referral_source"),
    ("contacts", "outcome", "contact_outcome"),
    ("missing_episodes", "missing_type", "missing_type"),
    ("cla_reviews", "participation", "cla_review_participation"),
    ("care_leavers", "in_touch", "care_leaver_in_touch"),
    ("care_leavers", "activity", "care_leaver_activity"),
    ("care_leavers", "accommodation", "care_leaver_accommodation"),
]
# The generator draws only current SSDA903 codes (never a retired one).
LEGAL_STATUS = codes("ssda903_legal_status")
PLACEMENT = codes("ssda903_placement")


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per table of the extract and a working-day calendar `cal`."""
    con = duckdb.connect()
    for name in TABLES:
        single = folder / f"{name}.parquet"
        src = single if single.exists() else folder / name / "*.parquet"
        con.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{src}')")
    bank = sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2031)))
    con.execute(
        "CREATE TABLE bank AS SELECT d::DATE AS d FROM (VALUES " + ", ".join(f"('{d}')" for d in bank) + ") v(d)"
    )
    con.execute("""CREATE TABLE cal AS SELECT d, sum((dayofweek(d) BETWEEN 1 AND 5 AND d NOT IN (SELECT d FROM bank))::INT)
                   OVER (ORDER BY d) AS k FROM (SELECT range::DATE AS d FROM range(DATE '2000-01-01',
                   DATE '2031-01-01', INTERVAL 1 DAY))""")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str):
    """The single value a query returns."""
    return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[int, Path]:
    """Small extracts at three sizes; the 2000 one split into areas and part files."""
    out = {}
    for n in (50, 300):
        out[n] = tmp_path_factory.mktemp(f"x{n}")
        generate(out[n], n, seed=7)
    out[2000] = tmp_path_factory.mktemp("x2000")
    generate(out[2000], 2000, seed=7, chunk_areas=2, area_size=500)
    return out


@pytest.fixture(scope="module")
def cons(extracts) -> dict[int, duckdb.DuckDBPyConnection]:
    """One connection per small extract."""
    return {n: connect(folder) for n, folder in extracts.items()}


@pytest.fixture(scope="module")
def shipped() -> duckdb.DuckDBPyConnection:
    """The committed sample extract."""
    return connect(SHIPPED)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every Parquet and manifest file under a folder, by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".parquet", ".json")
    }


# ---- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path, extracts):
    generate(tmp_path / "again", 300, seed=7)
    assert files_of(tmp_path / "again") == files_of(extracts[300])


def test_other_seed_gives_other_data(tmp_path, extracts):
    generate(tmp_path / "other", 300, seed=8)
    assert files_of(tmp_path / "other")["referrals.parquet"] != files_of(extracts[300])["referrals.parquet"]


def test_shipped_sample_is_the_default_run(tmp_path):
    """The committed files are exactly `--children 12000` with the default seed."""
    generate(tmp_path / "fresh", SHIPPED_CHILDREN, DEFAULT_SEED)
    shipped = {k: v for k, v in files_of(SHIPPED).items() if k.endswith(".parquet") or k == "manifest.json"}
    assert files_of(tmp_path / "fresh") == shipped


def test_regenerating_keeps_other_files(tmp_path):
    (tmp_path / "README.md").write_text("keep me")
    (tmp_path / "generate.py").write_text("# keep me")
    generate(tmp_path, 50, seed=1)
    generate(tmp_path, 50, seed=2)
    assert (tmp_path / "README.md").read_text() == "keep me"
    assert (tmp_path / "generate.py").exists()


# ---- shape -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [50, 300, 2000])
def test_every_table_with_contract_columns_and_types(extracts, n):
    folder = extracts[n]
    for name, table in TABLES.items():
        path = folder / f"{name}.parquet"
        files = [path] if path.exists() else sorted((folder / name).glob("part-*.parquet"))
        assert files, f"{name} missing"
        for f in files:
            schema = pq.read_schema(f)
            assert schema.names == table.column_names, name
            for col in table.columns:
                assert str(schema.field(col.name).type) in ARROW_TYPE[col.type], (name, col.name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["contract"] == "1.1" and manifest["as_of"] == "2026-03-31" and manifest["la_code"]


def test_big_tables_are_part_folders_when_chunked(extracts, cons):
    assert len(list((extracts[2000] / "referrals").glob("part-*.parquet"))) == 2
    assert (extracts[2000] / "teams.parquet").exists()
    assert one(cons[2000], "SELECT count(*) FROM teams") == 48  # 4 areas x 12 teams


# ---- contract rules --------------------------------------------------------------------------


def rule_queries() -> dict[str, str]:
    """Each query counts the rows that break one contract rule."""
    q = {}
    for name, t in TABLES.items():
        if t.key:
            cols = ", ".join(t.key)
            q[f"{name} key unique"] = f"SELECT count(*) - count(DISTINCT ({cols})) FROM {name}"
            for c in t.key:
                if not t.column(c).nullable:
                    q[f"{name}.{c} not null"] = f"SELECT count(*) FROM {name} WHERE {c} IS NULL"
        for col, ref, ref_col in t.foreign_keys:
            q[f"{name}.{col} -> {ref}"] = (
                f"SELECT count(*) FROM {name} WHERE {col} IS NOT NULL AND {col} NOT IN (SELECT {ref_col} FROM {ref})"
            )
        for c in t.columns:
            if not c.nullable:
                q[f"{name}.{c.name} not null"] = f"SELECT count(*) FROM {name} WHERE {c.name} IS NULL"
            if c.type == "date" and c.name != "birth_date":
                q[f"{name}.{c.name} <= as_of"] = f"SELECT count(*) FROM {name} WHERE {c.name} > {AS_OF}"
            if c.type == "date" and "child_id" in t.column_names and name != "children":
                q[f"{name}.{c.name} >= birth - 280"] = (
                    f"SELECT count(*) FROM {name} JOIN children USING (child_id) "
                    f"WHERE {c.name} < birth_date - INTERVAL 280 DAY"
                )
    for name in ("assessments", "section47", "cp_plans", "cin_plans", "factors", "service_episodes"):
        q[f"{name} child = referral's child"] = (
            f"SELECT count(*) FROM {name} x JOIN referrals r USING (referral_id) WHERE x.child_id <> r.child_id"
        )
    for table, col, lst in CODE_COLUMNS:
        allowed = ", ".join(f"'{c}'" for c in codes(lst))
        q[f"{table}.{col} code"] = f"SELECT count(*) FROM {table} WHERE {col} NOT IN ({allowed})"
    q.update(
        {
            "cp_reviews.plan_id -> cp_plans": "SELECT count(*) FROM cp_reviews WHERE plan_id NOT IN "
            "(SELECT plan_id FROM cp_plans)",
            "closure >= referral": "SELECT count(*) FROM referrals WHERE closure_date < referral_date",
            "closure_reason iff closure_date": "SELECT count(*) FROM referrals "
            "WHERE (closure_date IS NULL) <> (closure_reason IS NULL)",
            "assessment start >= referral": "SELECT count(*) FROM assessments a JOIN referrals r USING (referral_id) "
            "WHERE a.start_date < r.referral_date",
            "authorised >= start": "SELECT count(*) FROM assessments WHERE authorised_date < start_date",
            "icpc >= strategy": "SELECT count(*) FROM section47 WHERE icpc_date < strategy_date",
            "icpc_not_required has no icpc": "SELECT count(*) FROM section47 WHERE icpc_not_required "
            "AND icpc_date IS NOT NULL",
            "cp end >= start": "SELECT count(*) FROM cp_plans WHERE end_date < start_date",
            "cin end >= start": "SELECT count(*) FROM cin_plans WHERE end_date < start_date",
            "care end >= start": "SELECT count(*) FROM looked_after WHERE end_date < start_date",
            "service end >= start": "SELECT count(*) FROM service_episodes WHERE end_date < start_date",
            "worker end >= start": "SELECT count(*) FROM workers WHERE end_date < start_date",
            "worker start <= as_of": f"SELECT count(*) FROM workers WHERE start_date > {AS_OF}",
            "review >= plan start": "SELECT count(*) FROM cp_reviews v JOIN cp_plans p USING (plan_id) "
            "WHERE v.review_date < p.start_date",
            "factor recorded >= referral": "SELECT count(*) FROM factors f JOIN referrals r USING (referral_id) "
            "WHERE f.recorded_date < r.referral_date",
            "factor code declared": "SELECT count(*) FROM factors WHERE factor_code NOT IN ("
            + ", ".join(f"'{c}'" for c in cin_factor_codes())
            + ") AND factor_code NOT IN (SELECT factor_code FROM factor_codes)",
            "local code clashes with CIN": "SELECT count(*) FROM factor_codes WHERE factor_code IN ("
            + ", ".join(f"'{c}'" for c in cin_factor_codes())
            + ", '18A', '19A', '8A')",
            "fte in (0, 1]": "SELECT count(*) FROM workers WHERE NOT (fte > 0 AND fte <= 1)",
            "attendance 0-100": "SELECT count(*) FROM education WHERE attendance_pct < 0 OR attendance_pct > 100",
            "suspensions >= 0": "SELECT count(*) FROM education WHERE suspensions < 0",
            "weekly_cost >= 0": "SELECT count(*) FROM looked_after WHERE weekly_cost < 0 OR isnan(weekly_cost)",
            "episode cost >= 0": "SELECT count(*) FROM service_episodes WHERE cost < 0 OR isnan(cost)",
            "unit_cost >= 0": "SELECT count(*) FROM services WHERE unit_cost < 0",
            "contracted_days > 0": "SELECT count(*) FROM worker_absence WHERE NOT contracted_days > 0",
            "absence in [0, contracted]": "SELECT count(*) FROM worker_absence "
            "WHERE absence_days < 0 OR absence_days > contracted_days",
            "absence month is a 1st": "SELECT count(*) FROM worker_absence WHERE day(month) <> 1",
            "absence only while employed": "SELECT count(*) FROM worker_absence a JOIN workers w USING (worker_id) "
            "WHERE a.month + INTERVAL 1 MONTH <= w.start_date OR a.month > w.end_date",
            "ongoing episode has no end": "SELECT count(*) FROM service_episodes "
            "WHERE (exit_reason = 'ongoing') <> (end_date IS NULL)",
            "legal status code": "SELECT count(*) FROM looked_after WHERE legal_status NOT IN ("
            + ", ".join(f"'{c}'" for c in LEGAL_STATUS)
            + ")",
            "placement code": "SELECT count(*) FROM looked_after WHERE placement_type NOT IN ("
            + ", ".join(f"'{c}'" for c in PLACEMENT)
            + ")",
            "open referral has active worker of its team": f"""
            SELECT count(*) FROM referrals r LEFT JOIN workers w USING (worker_id)
            WHERE NOT r.nfa AND r.referral_date <= {AS_OF} AND (r.closure_date IS NULL OR r.closure_date > {AS_OF})
              AND (w.worker_id IS NULL OR w.team_id <> r.team_id OR w.start_date > {AS_OF}
                   OR w.end_date <= {AS_OF})""",
            "neet aged 16-18": "SELECT count(*) FROM neet_status JOIN children USING (child_id) "
            "WHERE date_diff('year', birth_date, recorded_date) - "
            "(strftime(recorded_date, '%m%d') < strftime(birth_date, '%m%d'))::INT NOT BETWEEN 16 AND 18",
            "early help end >= start": "SELECT count(*) FROM early_help WHERE end_date < start_date",
            "early help outcome only when ended": "SELECT count(*) FROM early_help "
            "WHERE end_date IS NULL AND outcome IS NOT NULL",
            "missing end >= start": "SELECT count(*) FROM missing_episodes WHERE end_date < start_date",
            "missing only while in care": "SELECT count(*) FROM missing_episodes m WHERE NOT EXISTS (SELECT 1 FROM "
            "looked_after l WHERE l.child_id = m.child_id AND m.start_date BETWEEN l.start_date "
            f"AND coalesce(l.end_date, {AS_OF}))",
            "CLA review while in care": "SELECT count(*) FROM cla_reviews v WHERE NOT EXISTS (SELECT 1 FROM "
            "looked_after l WHERE l.child_id = v.child_id AND v.review_date BETWEEN l.start_date "
            f"AND coalesce(l.end_date, {AS_OF}))",
            "care leaver aged 17-21, left care at 16+": "SELECT count(*) FROM care_leavers c JOIN children k "
            "USING (child_id) WHERE date_diff('day', birth_date, recorded_date) NOT BETWEEN 16 * 365 AND 22 * 366 "
            "OR NOT EXISTS (SELECT 1 FROM looked_after l WHERE l.child_id = c.child_id AND l.end_date <= c.recorded_date "
            "AND l.end_date >= k.birth_date + INTERVAL 16 YEAR)",
            "care leaver details only when in touch": "SELECT count(*) FROM care_leavers WHERE in_touch <> 'YES' "
            "AND (activity IS NOT NULL OR accommodation IS NOT NULL OR accommodation_suitable IS NOT NULL)",
            "uasc was looked after": "SELECT count(*) FROM uasc WHERE child_id NOT IN (SELECT child_id FROM looked_after)",
            "contact ids": "SELECT count(*) FROM contacts WHERE NOT regexp_matches(contact_id, '^K[0-9]{9}$')",
            "ids look like strings": "SELECT count(*) FROM referrals WHERE NOT regexp_matches(referral_id, '^R[0-9]{8}$') "
            "OR NOT regexp_matches(child_id, '^C[0-9]{7}$')",
        }
    )
    return q


@pytest.mark.parametrize("n", [50, 300, 2000])
def test_contract_rules_hold(cons, n):
    con = cons[n]
    broken = {rule: c for rule, sql in rule_queries().items() if (c := one(con, sql))}
    assert broken == {}


def test_contract_rules_hold_in_shipped_sample(shipped):
    broken = {rule: c for rule, sql in rule_queries().items() if (c := one(shipped, sql))}
    assert broken == {}


@pytest.mark.parametrize("n", [1, 3])
def test_tiny_extracts_via_command_line(tmp_path, n):
    assert main(["--out", str(tmp_path), "--children", str(n), "--seed", str(n)]) == 0
    con = connect(tmp_path)
    assert one(con, "SELECT count(*) FROM children") == n
    assert one(con, "SELECT count(DISTINCT child_id) FROM referrals") == n
    broken = {rule: c for rule, sql in rule_queries().items() if (c := one(con, sql))}
    assert broken == {}


@pytest.fixture(scope="module")
def national_rate(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """300 children at the national referral rate (`--referrals-per-child 2.6`)."""
    folder = tmp_path_factory.mktemp("r26")
    assert main(["--out", str(folder), "--children", "300", "--seed", "7", "--referrals-per-child", "2.6"]) == 0
    return connect(folder)


def test_referrals_per_child_option_gives_that_rate(national_rate, cons):
    assert one(national_rate, "SELECT count(*) FROM children") == 300
    assert 2.3 <= one(national_rate, "SELECT count(*) / 300 FROM referrals") <= 2.9
    assert one(cons[300], "SELECT count(*) / 300 FROM referrals") < 1.9  # the natural rate, about 1.6
    # more referrals per child come from more re-referrals
    assert one(national_rate, REREFERRAL) > one(cons[300], REREFERRAL)


def test_contract_rules_hold_at_national_referral_rate(national_rate):
    broken = {rule: c for rule, sql in rule_queries().items() if (c := one(national_rate, sql))}
    assert broken == {}


def test_referrals_per_child_out_of_range_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--out", str(tmp_path), "--children", "10", "--referrals-per-child", "9"])
    assert exc.value.code == 2 and "--referrals-per-child must be between" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("n", [300, 2000])
def test_small_extracts_are_not_empty(cons, n):
    con = cons[n]
    for name in TABLES:
        assert one(con, f"SELECT count(*) FROM {name}") > 0, name


# ---- realism of the shipped sample -----------------------------------------------------------

REREFERRAL = f"""
    WITH r AS (SELECT r.*, t.practice_model,
                 lag(referral_date) OVER (PARTITION BY child_id ORDER BY referral_date, referral_id) AS prev
               FROM referrals r JOIN teams t USING (team_id))
    SELECT avg(CASE WHEN referral_date - prev BETWEEN 1 AND 365 THEN 1.0 ELSE 0.0 END) FROM r
    WHERE referral_date > {AS_OF} - INTERVAL 365 DAY AND referral_date <= {AS_OF}"""
OPEN = f"""SELECT * FROM referrals WHERE NOT nfa AND referral_date <= {AS_OF}
           AND (closure_date IS NULL OR closure_date > {AS_OF})"""


def test_size_of_the_shipped_council(shipped):
    assert one(shipped, "SELECT count(*) FROM children") == 12_000
    assert 19_000 <= one(shipped, "SELECT count(*) FROM referrals") <= 21_500
    assert one(shipped, "SELECT count(*) FROM teams") == 12
    assert 80 <= one(shipped, "SELECT count(*) FROM workers") <= 125
    assert 0.15 <= one(shipped, "SELECT avg(agency::INT) FROM workers") <= 0.21
    assert one(shipped, "SELECT count(*) FROM workers WHERE end_date IS NOT NULL") >= 5
    assert one(shipped, "SELECT min(fte) FROM workers") >= 0.5
    assert (
        one(shipped, "SELECT count(*) FROM teams WHERE service_area = 'child_protection' AND focus = 'physical abuse'")
        == 1
    )
    assert one(shipped, "SELECT count(DISTINCT practice_model) FROM teams") == 2
    total = sum(p.stat().st_size for p in SHIPPED.glob("*.parquet"))
    assert total < 8_000_000


def test_rereferral_and_nfa_rates(shipped):
    assert 0.15 <= one(shipped, REREFERRAL) <= 0.25
    assert 0.10 <= one(shipped, "SELECT avg(nfa::INT) FROM referrals") <= 0.20


def test_caseload_near_16_per_case_holding_fte(shipped):
    per_fte = one(
        shipped,
        f"""
        WITH o AS ({OPEN}), w AS (SELECT DISTINCT worker_id FROM o)
        SELECT (SELECT count(DISTINCT child_id) FROM o) / sum(fte) FROM workers WHERE worker_id IN (SELECT * FROM w)""",
    )
    assert 14 <= per_fte <= 18
    cp_share = one(
        shipped,
        f"""SELECT (SELECT count(*) FROM cp_plans WHERE start_date <= {AS_OF}
                                        AND (end_date IS NULL OR end_date > {AS_OF})) / count(*) FROM ({OPEN})""",
    )
    assert 0.03 <= cp_share <= 0.08


def test_commonest_factors_are_parental_mental_health_and_domestic_abuse(shipped):
    top = [
        r[0]
        for r in shipped.execute("SELECT factor_code FROM factors GROUP BY 1 ORDER BY count(*) DESC LIMIT 3").fetchall()
    ]
    assert top[0] == "4B" and set(top[1:]) == {"3A", "3B"}
    assert one(shipped, "SELECT avg((source = 'assessment')::INT) FROM factors") > 0.8


def test_timeliness(shipped):
    a45 = one(
        shipped,
        f"""SELECT avg((ca.k - cr.k <= 45)::INT) FROM assessments a JOIN referrals r USING (referral_id)
        JOIN cal cr ON cr.d = r.referral_date JOIN cal ca ON ca.d = a.authorised_date
        WHERE a.authorised_date > {AS_OF} - INTERVAL 365 DAY""",
    )
    assert 0.78 <= a45 <= 0.92
    icpc = one(
        shipped,
        """SELECT avg((ci.k - cs.k <= 15)::INT) FROM section47 s
        JOIN cal cs ON cs.d = s.strategy_date JOIN cal ci ON ci.d = s.icpc_date""",
    )
    assert 0.7 <= icpc <= 0.92
    first_review = one(
        shipped,
        """SELECT avg((first <= start_date + INTERVAL 3 MONTH)::INT) FROM
        (SELECT p.start_date, min(v.review_date) AS first FROM cp_plans p JOIN cp_reviews v USING (plan_id) GROUP BY ALL)""",
    )
    assert 0.8 <= first_review < 1.0


def overdue_share(con: duckdb.DuckDBPyConnection, model: str) -> float:
    """Share of open CP plans (team of the referral in this practice model) overdue a visit at as_of."""
    return one(
        con,
        f"""
        WITH p AS (SELECT p.plan_id, p.child_id, p.start_date FROM cp_plans p JOIN referrals r USING (referral_id)
                   JOIN teams t USING (team_id) WHERE t.practice_model = '{model}' AND p.start_date <= {AS_OF}
                   AND (p.end_date IS NULL OR p.end_date > {AS_OF})),
        last AS (SELECT p.plan_id, greatest(p.start_date, coalesce(max(v.visit_date), p.start_date)) AS base
                 FROM p LEFT JOIN visits v ON v.child_id = p.child_id AND v.visit_type = 'cp'
                 AND v.visit_date <= {AS_OF} GROUP BY p.plan_id, p.start_date)
        SELECT avg(((SELECT k FROM cal WHERE d = {AS_OF}) - c.k > 10)::INT) FROM last JOIN cal c ON c.d = last.base""",
    )


def test_visits_mostly_on_time_with_some_overdue_more_in_traditional_teams(shipped):
    gaps = one(
        shipped,
        """SELECT avg((c2.k - c1.k <= 10)::INT) FROM
        (SELECT visit_date, lag(visit_date) OVER (PARTITION BY child_id ORDER BY visit_date) AS prev
         FROM visits WHERE visit_type = 'cp') v JOIN cal c1 ON c1.d = v.prev JOIN cal c2 ON c2.d = v.visit_date""",
    )
    assert 0.85 <= gaps < 1.0
    cla = one(
        shipped,
        """SELECT avg((visit_date - prev <= 42)::INT) FROM (SELECT visit_date,
        lag(visit_date) OVER (PARTITION BY child_id ORDER BY visit_date) AS prev FROM visits WHERE visit_type = 'cla')""",
    )
    assert 0.85 <= cla < 1.0
    overdue_cin = one(
        shipped,
        f"""
        WITH p AS (SELECT child_id, max(start_date) AS s FROM cin_plans WHERE start_date <= {AS_OF}
                   AND (end_date IS NULL OR end_date > {AS_OF}) GROUP BY ALL),
        l AS (SELECT p.child_id, greatest(p.s, coalesce(max(v.visit_date), p.s)) AS base FROM p
              LEFT JOIN visits v ON v.child_id = p.child_id AND v.visit_type = 'cin' AND v.visit_date <= {AS_OF}
              GROUP BY p.child_id, p.s)
        SELECT count(*) FROM l JOIN cal c ON c.d = l.base WHERE (SELECT k FROM cal WHERE d = {AS_OF}) - c.k > 20""",
    )
    assert overdue_cin > 0
    assert overdue_share(shipped, "traditional") > overdue_share(shipped, "data_led")


def test_care_costs_in_published_ranges(shipped):
    foster = shipped.execute(
        "SELECT min(weekly_cost), avg(weekly_cost), max(weekly_cost) FROM looked_after WHERE placement_type LIKE 'U%'"
    ).fetchone()
    assert foster[0] >= 560 and 600 <= foster[1] <= 650 and foster[2] <= 700
    home = shipped.execute(
        "SELECT min(weekly_cost), max(weekly_cost) FROM looked_after WHERE placement_type = 'K2'"
    ).fetchone()
    assert home[0] >= 3000 and home[1] <= 5000
    assert one(shipped, "SELECT unit_cost FROM services WHERE category = 'multisystemic_therapy'") == 5700
    assert 0.2 < one(shipped, "SELECT avg((cost IS NULL)::INT) FROM service_episodes") < 0.8


def test_education_and_neet(shipped):
    assert one(shipped, "SELECT count(*) - count(DISTINCT (child_id, academic_year)) FROM education") == 0
    neet = one(shipped, "SELECT avg((status = 'NEET')::INT) FROM neet_status WHERE status <> 'unknown'")
    assert 0.10 <= neet <= 0.15


# ---- planted patterns ------------------------------------------------------------------------

COHORT = """
    WITH kids AS (SELECT child_id, max(coalesce(t.focus = 'physical abuse', false)::INT) AS unit
                  FROM referrals r JOIN teams t USING (team_id) WHERE NOT nfa GROUP BY ALL)
    SELECT unit, avg((child_id IN (SELECT child_id FROM factors WHERE factor_code = '{code}'))::INT) AS pct
    FROM kids GROUP BY ALL ORDER BY unit"""


@pytest.mark.parametrize("code, unit_range, rest_max", [("PD1", (0.15, 0.25), 0.06), ("PA1", (0.55, 0.75), 0.25)])
def test_physical_abuse_unit_local_factors(shipped, code, unit_range, rest_max):
    rest, unit = [r[1] for r in shipped.execute(COHORT.format(code=code)).fetchall()]
    assert unit_range[0] <= unit <= unit_range[1]
    assert rest <= rest_max
    assert one(shipped, f"SELECT subject FROM factor_codes WHERE factor_code = '{code}'") == "parent"


def test_control_local_factor_does_not_differ(shipped):
    rest, unit = [r[1] for r in shipped.execute(COHORT.format(code="HS1")).fetchall()]
    assert abs(unit - rest) < 0.05


def neet_rate(con: duckdb.DuckDBPyConnection, condition: str) -> tuple[float, float]:
    """NEET rate among young people with and without a condition on their latest education row."""
    rows = con.execute(f"""
        WITH e AS (SELECT * FROM education QUALIFY row_number() OVER (PARTITION BY child_id
                   ORDER BY academic_year DESC) = 1),
        n AS (SELECT n.child_id, n.status = 'NEET' AS neet,
                     n.child_id IN (SELECT child_id FROM looked_after WHERE start_date <= n.recorded_date) AS lac
              FROM neet_status n WHERE status <> 'unknown')
        SELECT ({condition}) AS flag, avg(neet::INT) FROM n JOIN e USING (child_id) GROUP BY ALL""").fetchall()
    rates = dict(rows)
    return rates[True], rates[False]


@pytest.mark.parametrize(
    "condition, min_ratio", [("attendance_pct < 85", 1.8), ("fsm", 1.4), ("lac", 1.8), ("suspensions > 0", 1.3)]
)
def test_neet_drivers(shipped, condition, min_ratio):
    with_, without = neet_rate(shipped, condition)
    assert with_ / without >= min_ratio


def test_neet_noise_variable_has_no_effect(shipped):
    with_, without = neet_rate(shipped, "eal")
    assert 0.75 <= with_ / without <= 1.33


def test_services_differ_in_success(shipped):
    rates = dict(
        shipped.execute(f"""
        WITH e AS (SELECT se.service_id, r.child_id, r.closure_date FROM service_episodes se
                   JOIN referrals r USING (referral_id) WHERE r.closure_date <= {AS_OF} - INTERVAL 365 DAY)
        SELECT service_id, avg((NOT EXISTS (SELECT 1 FROM referrals x WHERE x.child_id = e.child_id
               AND x.referral_date > e.closure_date AND x.referral_date <= e.closure_date + INTERVAL 365 DAY))::INT)
        FROM e GROUP BY ALL""").fetchall()
    )
    assert len(rates) == 10
    assert rates["SV01"] - rates["SV09"] > 0.15  # family group conference vs residential assessment
    assert max(rates.values()) - min(rates.values()) > 0.2


def by_model(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, float]:
    """A measure per practice model; the query's first column must be practice_model."""
    return dict(con.execute(sql).fetchall())


def test_data_led_teams_do_better(shipped):
    close = by_model(
        shipped,
        """SELECT practice_model, median(closure_date - referral_date) FROM referrals
                                 JOIN teams USING (team_id) WHERE NOT nfa AND closure_date IS NOT NULL GROUP BY ALL""",
    )
    assert close["data_led"] < close["traditional"] - 10
    rerefer = by_model(
        shipped,
        """
        WITH r AS (SELECT r.*, lag(referral_date) OVER (PARTITION BY child_id ORDER BY referral_date, referral_id) p
                   FROM referrals r)
        SELECT practice_model, avg(coalesce(referral_date - p BETWEEN 1 AND 365, false)::INT) FROM r
        JOIN teams USING (team_id) GROUP BY ALL""",
    )
    assert rerefer["data_led"] < rerefer["traditional"] - 0.02
    absence = by_model(
        shipped,
        """SELECT practice_model, sum(absence_days) / sum(contracted_days) FROM worker_absence
                                   JOIN workers USING (worker_id) JOIN teams USING (team_id) GROUP BY ALL""",
    )
    assert absence["data_led"] < absence["traditional"]
    overall = one(shipped, "SELECT sum(absence_days) / sum(contracted_days) FROM worker_absence")
    assert 0.028 <= overall <= 0.038


def test_local_codes_match_generator_constants():
    assert {c[0] for c in _records.LOCAL_FACTORS} == {"PD1", "PA1", "HS1"}


# ---- format 1.1: the front door and looked-after children's other returns ---------------------

# Contacts that became a referral: the child was referred on the contact date or up to 30 days after
# (the front door questions' default, setting contact_referral_days).
CONVERSION = """
    SELECT c.source = '6' AS police, count(*) AS contacts,
           avg((EXISTS (SELECT 1 FROM referrals AS r WHERE r.child_id = c.child_id
                AND r.referral_date BETWEEN c.contact_date AND c.contact_date + INTERVAL 30 DAY))::INT) AS rate
    FROM contacts AS c
    WHERE c.contact_date > {since}
    GROUP BY ALL"""


def test_every_referral_came_through_a_contact(shipped):
    without = one(
        shipped,
        """SELECT count(*) FROM referrals AS r WHERE NOT EXISTS (SELECT 1 FROM contacts AS c WHERE c.child_id = r.child_id
           AND c.source = r.source AND c.contact_date BETWEEN r.referral_date - 7 AND r.referral_date)""",
    )
    assert without == 0
    assert 2.5 <= one(shipped, "SELECT (SELECT count(*) FROM contacts) / (SELECT count(*) FROM referrals)") <= 3.0


@pytest.mark.parametrize("since", ["DATE '2000-01-01'", f"{AS_OF} - INTERVAL 365 DAY"])
def test_police_contacts_become_referrals_half_as_often(shipped, since):
    rates = {police: rate for police, _, rate in shipped.execute(CONVERSION.format(since=since)).fetchall()}
    assert abs(rates[True] - _front_door.POLICE_CONVERSION) < 0.02
    assert abs(rates[False] - _front_door.CONVERSION) < 0.02
    assert 0.45 <= rates[True] / rates[False] <= 0.55


def test_contacts_that_went_no_further_mostly_end_in_nfa_or_advice_for_the_police(shipped):
    outcomes = dict(
        shipped.execute("""SELECT coalesce(outcome, 'not recorded'), count(*) FROM contacts
                           WHERE source = '6' AND outcome IS DISTINCT FROM 'referral' GROUP BY ALL""").fetchall()
    )
    assert (outcomes["no_further_action"] + outcomes["advice"]) / sum(outcomes.values()) > 0.8
    assert outcomes["not recorded"] > 0 and outcomes["early_help"] > 0


def test_early_help_steps_up_to_referrals(shipped):
    stepped = "outcome = 'Stepped up to social care'"
    assert one(shipped, f"SELECT count(*) FROM early_help WHERE {stepped}") > 100
    unreferred = one(
        shipped,
        f"""SELECT count(*) FROM early_help AS e WHERE {stepped} AND NOT EXISTS (SELECT 1 FROM referrals AS r
            WHERE r.child_id = e.child_id AND r.referral_date BETWEEN e.end_date AND e.end_date + 7)""",
    )
    assert unreferred == 0
    after_contact = one(
        shipped,
        """SELECT count(*) FROM early_help AS e WHERE EXISTS (SELECT 1 FROM contacts AS c WHERE c.child_id = e.child_id
           AND c.outcome = 'early_help' AND e.start_date BETWEEN c.contact_date + 1 AND c.contact_date + 21)""",
    )
    assert after_contact > 100


CARE_PERIODS = """
    WITH starts AS (SELECT child_id, start_date FROM looked_after AS l WHERE NOT EXISTS (
                        SELECT 1 FROM looked_after AS p WHERE p.child_id = l.child_id AND p.end_date = l.start_date)),
    reviews AS (SELECT v.child_id, v.review_date, s.start_date AS entered,
                       row_number() OVER (PARTITION BY v.child_id, s.start_date ORDER BY v.review_date) AS n,
                       lag(v.review_date) OVER (PARTITION BY v.child_id, s.start_date ORDER BY v.review_date) AS prev
                FROM cla_reviews AS v
                ASOF JOIN starts AS s ON s.child_id = v.child_id AND s.start_date <= v.review_date)"""


def test_cla_reviews_mostly_on_time(shipped):
    first = one(
        shipped,
        CARE_PERIODS
        + """SELECT avg((c2.k - c1.k <= 20)::INT) FROM reviews JOIN cal AS c1 ON c1.d = entered
                          JOIN cal AS c2 ON c2.d = review_date WHERE n = 1""",
    )
    second = one(
        shipped, CARE_PERIODS + "SELECT avg((review_date <= prev + INTERVAL 3 MONTH)::INT) FROM reviews WHERE n = 2"
    )
    later = one(
        shipped, CARE_PERIODS + "SELECT avg((review_date <= prev + INTERVAL 6 MONTH)::INT) FROM reviews WHERE n > 2"
    )
    for share in (first, second, later):
        assert 0.8 <= share < 1.0  # mostly on time, some late


def test_missing_episodes_mostly_adolescents_in_residential_placements(shipped):
    share = one(
        shipped,
        f"""SELECT avg((l.placement_type IN ('K2', 'H5') AND m.start_date >= k.birth_date + INTERVAL 12 YEAR)::INT)
            FROM missing_episodes AS m JOIN children AS k USING (child_id)
            JOIN looked_after AS l ON l.child_id = m.child_id
             AND m.start_date BETWEEN l.start_date AND coalesce(l.end_date, {AS_OF})""",
    )
    assert share > 0.6
    assert one(shipped, "SELECT count(DISTINCT child_id) FROM missing_episodes") >= 30


def test_a_few_unaccompanied_children_who_entered_care_aged_14_or_over(shipped):
    ages = shipped.execute(
        """SELECT date_diff('year', k.birth_date, min(l.start_date)) FROM uasc JOIN children AS k USING (child_id)
           JOIN looked_after AS l USING (child_id) GROUP BY uasc.child_id, k.birth_date"""
    ).fetchall()
    assert 5 <= len(ages) <= 60
    assert min(a for (a,) in ages) >= 13  # whole years by date_diff: 13 just before a birthday
