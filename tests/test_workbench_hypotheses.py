"""The register of hypotheses on the tiny extract: hand-counted outcomes, fixed periods, history on a changed extract.

The tiny extract's story (tests/tiny_extract.py), read for the periods used here — discovery 2025-04-01 to
2025-09-30, confirmation 2025-10-01 to 2026-03-31 — with team T1 as the cohort and T2 as the comparison:

- discovery: T1 has C1 (R1 2025-04-03, referred again by R7 on 2026-01-15, 287 days later); T2 has C2 and
  C3 (R2, R3 2025-06-10; neither referred again). Factor 3B in the period: C1 (2025-05-20), C3 (2025-07-30).
- confirmation: T1 has C1 (R7; no later referral); T2 has C6 (R6 2026-02-01). No 3B recorded in it.

Re-referral needs 12 months' follow-up, so these tests give the extract an as_of of 2027-03-31.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from helpers import referral, rows_frame
from tiny_extract import DEFAULT_MANIFEST
from workbench.hypotheses import (
    HypothesisError,
    create_hypothesis,
    hypothesis_details,
    latest_results,
    list_hypotheses,
    parse_period,
    result_history,
    run_hypotheses,
    set_status,
)
from workbench.hypothesis_effect import difference_in_proportions
from workbench.tables import hypotheses

LATER = DEFAULT_MANIFEST | {"as_of": "2027-03-31"}
DISCOVERY = (dt.date(2025, 4, 1), dt.date(2025, 9, 30))
CONFIRMATION = (dt.date(2025, 10, 1), dt.date(2026, 3, 31))
T1, T2 = {"team_id": "T1"}, {"team_id": "T2"}


def write(workspace, name="rr", outcome="rereferral", factor_code=None, **kwargs):
    create_hypothesis(
        workspace, name, "Children referred to T1 are re-referred more often than T2's", T1, T2, outcome,
        DISCOVERY, CONFIRMATION, factor_code=factor_code, created_by="analyst@council.gov.uk", **kwargs,
    )  # fmt: skip


def counts(result: dict) -> tuple[int, int, int, int]:
    return (
        result["with_outcome"],
        result["children"],
        result["comparison_with_outcome"],
        result["comparison_children"],
    )


# --- the statistic -----------------------------------------------------------------------------------


def test_the_effect_matches_newcombes_worked_example():
    # Newcombe RG (1998), Stat Med 17:873, Table II, example (a): 56/70 against 48/80, method 10.
    effect = difference_in_proportions(56, 70, 48, 80)
    assert effect.effect == pytest.approx(0.2000, abs=5e-5)
    assert (effect.ci_low, effect.ci_high) == (pytest.approx(0.0524, abs=5e-5), pytest.approx(0.3339, abs=5e-5))
    # Example (d): 5/56 against 0/29, an empty cell.
    effect = difference_in_proportions(5, 56, 0, 29)
    assert (effect.ci_low, effect.ci_high) == (pytest.approx(-0.0381, abs=5e-5), pytest.approx(0.1926, abs=5e-5))


def test_the_p_value_is_fishers_two_sided_exact_test():
    # Fisher (1935), the lady tasting tea: 3 of 4 against 1 of 4, two-sided p = 34/70.
    assert difference_in_proportions(3, 4, 1, 4).p == pytest.approx(34 / 70, abs=1e-9)
    # 1 of 1 against 0 of 2: of the three equally likely tables, the observed one and one as extreme.
    assert difference_in_proportions(1, 1, 0, 2).p == pytest.approx(1 / 3, abs=1e-9)


def test_an_empty_cohort_gives_no_effect():
    assert difference_in_proportions(0, 0, 1, 2) == (None, None, None, None)


# --- writing it down ---------------------------------------------------------------------------------


def test_periods_are_read_as_from_to_dates():
    assert parse_period("2025-04-01..2025-09-30", "--discovery") == DISCOVERY
    for bad in ("2025-04-01", "2025-09-30..2025-04-01", "April..May"):
        with pytest.raises(HypothesisError, match="--discovery is FROM..TO"):
            parse_period(bad, "--discovery")


def test_a_hypothesis_is_refused_when_its_test_cannot_be_run(workspace):
    with pytest.raises(HypothesisError, match="needs --factor"):
        write(workspace, outcome="factor")
    with pytest.raises(HypothesisError, match="confirmation period starts after the discovery period ends"):
        create_hypothesis(workspace, "x", "words", T1, T2, "rereferral", CONFIRMATION, DISCOVERY)
    with pytest.raises(HypothesisError, match="the two cohorts are the same"):
        create_hypothesis(workspace, "x", "words", T1, T1, "rereferral", DISCOVERY, CONFIRMATION)
    write(workspace)
    with pytest.raises(HypothesisError, match="already a hypothesis named 'rr'"):
        write(workspace)


def test_the_periods_are_fixed_when_it_is_written(workspace, make_engine):
    write(workspace)
    details = hypothesis_details(workspace, "rr")
    assert (details["discovery"], details["confirmation"]) == ("2025-04-01..2025-09-30", "2025-10-01..2026-03-31")
    assert details["status"] == "open" and details["created_by"] == "analyst@council.gov.uk"
    run_hypotheses(workspace, make_engine(manifest=LATER))
    set_status(workspace, "rr", "supported", "held in both periods")
    with workspace.connect() as connection:
        row = connection.execute(select(hypotheses)).one()
    assert (row.discovery_from, row.discovery_to, row.confirmation_from, row.confirmation_to) == (
        *DISCOVERY,
        *CONFIRMATION,
    )
    assert (row.status, row.note) == ("supported", "held in both periods")
    with pytest.raises(HypothesisError, match="the status is one of"):
        set_status(workspace, "rr", "proven")


# --- running it --------------------------------------------------------------------------------------


def test_rereferral_is_counted_by_hand_in_both_periods(workspace, make_engine):
    write(workspace)
    done = run_hypotheses(workspace, make_engine(manifest=LATER))
    assert [(r["period"], r["not_run"], counts(r)) for r in done] == [
        ("discovery", None, (1, 1, 0, 2)),
        ("confirmation", None, (0, 1, 0, 1)),
    ]
    discovery = done[0]
    assert discovery["effect"] == 1.0 and discovery["p"] == pytest.approx(1 / 3)
    assert (discovery["ci_low"], discovery["ci_high"]) == difference_in_proportions(1, 1, 0, 2)[1:3]
    assert discovery["as_of"] == dt.date(2027, 3, 31) and len(discovery["extract_signature"]) == 16
    assert done[1]["effect"] == 0.0


def test_a_factors_prevalence_is_counted_by_hand(workspace, make_engine):
    write(workspace, "3b", outcome="factor", factor_code="3B")
    done = run_hypotheses(workspace, make_engine())  # a factor needs no follow-up: the extract's own as_of
    assert [(r["period"], counts(r)) for r in done] == [("discovery", (1, 1, 1, 2)), ("confirmation", (0, 1, 0, 1))]
    assert done[0]["effect"] == 0.5 and done[0]["p"] == 1.0  # every table with these margins is as likely or less


def test_rereferral_waits_for_twelve_months_follow_up(workspace, make_engine):
    write(workspace)
    done = run_hypotheses(workspace, make_engine())  # as_of 2026-03-31: neither period has a year after it
    assert [r["not_run"] for r in done] == [
        "re-referral within 12 months needs 365 days' follow-up after 2025-09-30: an extract with as_of on or after "
        "2026-09-30",
        "re-referral within 12 months needs 365 days' follow-up after 2026-03-31: an extract with as_of on or after "
        "2027-03-31",
    ]
    assert result_history(workspace, "rr").height == 0


def test_a_changed_extract_adds_history_and_keeps_the_earlier_results(workspace, make_engine):
    write(workspace)
    run_hypotheses(workspace, make_engine(manifest=LATER))
    assert [r["not_run"] for r in run_hypotheses(workspace, make_engine(manifest=LATER))] == [
        None,
        None,
    ]  # another copy of the extract: its own files, so its own signature

    def c2_referred_again(tables):  # C2 (T2) is referred again on 2025-12-01: re-referred within the year
        extra = rows_frame("referrals", [referral("R8", "C2", "2025-12-01", team="T2", worker="W3")])
        tables["referrals"] = tables["referrals"].vstack(extra)
        return tables

    done = run_hypotheses(workspace, make_engine(c2_referred_again, manifest=LATER))
    # C2 is now re-referred after discovery, and in T2's confirmation cohort too (R8), with no referral after it.
    assert [counts(r) for r in done] == [(1, 1, 1, 2), (0, 1, 0, 2)]
    history = result_history(workspace, "rr")
    assert history.height == 6
    assert history.filter(period="discovery")["comparison_with_outcome"].to_list() == [0, 0, 1]
    assert history["extract_signature"].n_unique() == 3
    latest = latest_results(history)
    assert latest["period"].to_list() == ["discovery", "confirmation"]
    assert latest["effect"].to_list() == [0.5, 0.0]
    assert latest["extract_signature"].to_list() == [done[0]["extract_signature"]] * 2
    listed = list_hypotheses(workspace).row(0, named=True)
    assert (listed["discovery_effect"], listed["confirmation_effect"], listed["results"]) == (0.5, 0.0, 6)


def test_running_again_on_the_same_extract_adds_nothing(workspace, make_engine):
    write(workspace)
    engine = make_engine(manifest=LATER)
    run_hypotheses(workspace, engine)
    assert [r["not_run"] for r in run_hypotheses(workspace, engine)] == ["already run on this extract"] * 2
    assert result_history(workspace, "rr").height == 2


def test_only_open_hypotheses_run_unless_named_and_a_retired_one_never(workspace, make_engine):
    write(workspace)
    write(workspace, "3b", outcome="factor", factor_code="3B")
    set_status(workspace, "rr", "not_supported")
    set_status(workspace, "3b", "retired")
    engine = make_engine(manifest=LATER)
    assert run_hypotheses(workspace, engine) == []
    assert [r["name"] for r in run_hypotheses(workspace, engine, "rr")] == ["rr", "rr"]
    with pytest.raises(HypothesisError, match="'3b' is retired"):
        run_hypotheses(workspace, engine, "3b")


def test_a_factor_hypothesis_on_an_extract_without_factors_says_so(workspace, make_engine):
    write(workspace, "3b", outcome="factor", factor_code="3B")
    done = run_hypotheses(workspace, make_engine(drop=("factors", "factor_codes")))
    assert [r["not_run"] for r in done] == [
        "a factor outcome cannot be counted: the factors table is not in this extract"
    ] * 2


def test_an_older_workspace_is_upgraded_and_keeps_its_audits(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from workbench.workspace import MIGRATIONS, open_workspace

    path = tmp_path / "old.sqlite"
    old = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO audits (name, cohort, sample_size, seed, as_of, extract_name, created_by, created_at) "
                "VALUES ('kept', '{}', 1, 1, '2026-03-31', 'x', 'y', '2026-04-01 10:00:00')"
            )
        )
    old.dispose()
    upgraded = open_workspace(path)
    with upgraded.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
        assert connection.execute(text("SELECT name FROM audits")).scalars().all() == ["kept"]
        assert connection.execute(text("SELECT count(*) FROM hypotheses")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM audit_factors")).scalar() == 0
    upgraded.dispose()


# --- the command line --------------------------------------------------------------------------------


def test_the_command_line_writes_runs_and_shows_a_hypothesis(tmp_path, capsys, monkeypatch):
    import json

    from tiny_extract import write_extract
    from workbench.__main__ import main

    monkeypatch.delenv("CHILDSTAT_WORKSPACE", raising=False)
    data = write_extract(tmp_path / "extract", manifest=LATER)
    where = ["--workspace", str(tmp_path / "ws.sqlite")]

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, *where])
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("hypothesis", "create", "rr", "--statement", "T1's children are re-referred more",
               "--cohort", "team_id=T1", "--compare", "team_id=T2", "--outcome", "rereferral",
               "--discovery", "2025-04-01..2025-09-30", "--confirmation", "2025-10-01..2026-03-31") == (
        0, "hypothesis 'rr' written down, open; its periods are fixed\n", "")  # fmt: skip
    code, out, _ = run("hypothesis", "run", "--data", str(data))
    assert code == 0 and out.splitlines() == [
        "rr, discovery: 1 of 1 against 0 of 2: difference +100.0 points (95% CI -3.1 to +100.0), p = 0.33",
        "rr, confirmation: 0 of 1 against 0 of 1: difference +0.0 points (95% CI -79.3 to +79.3), p = 1.00",
    ]
    assert run("hypothesis", "status", "rr", "supported", "--note", "small numbers")[0] == 0
    code, out, _ = run("hypothesis", "show", "rr", "--format", "json")
    shown = json.loads(out)
    assert (shown["status"], shown["note"], shown["cohort"], shown["outcome"]) == (
        "supported", "small numbers", {"team_id": "T1"}, "re-referral within 12 months")  # fmt: skip
    assert [r["period"] for r in shown["latest"]] == ["discovery", "confirmation"] and len(shown["history"]) == 2
    code, out, _ = run("hypothesis", "list")
    assert out.splitlines() == [
        "name,outcome,status,discovery_effect,discovery_p,confirmation_effect,confirmation_p,results",
        f"rr,re-referral within 12 months,supported,1.0,{1 / 3},0.0,1.0,2",
    ]
    assert run("hypothesis", "run", "--data", str(data)) == (0, "no open hypotheses to run\n", "")


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path, capsys, monkeypatch):
    from workbench.__main__ import main

    monkeypatch.delenv("CHILDSTAT_WORKSPACE", raising=False)
    where = ["--workspace", str(tmp_path / "ws.sqlite")]
    create = ["hypothesis", "create", "x", "--statement", "s", "--cohort", "team_id=T1", "--outcome", "rereferral",
              "--discovery", "2025-04-01..2025-09-30", "--confirmation", "2025-10-01..2026-03-31", *where]  # fmt: skip
    assert main([*create, "--compare", "colour=red"]) == 2
    assert capsys.readouterr().err == (
        "error: --compare: unknown cohort filter 'colour' (filters: team_id, team_focus, cp_category, primary_need, "
        "age_band, sex, ethnicity_group)\n"
    )
    assert main(["hypothesis", "show", "nothing", *where]) == 2
    assert capsys.readouterr().err == (
        "error: there is no hypothesis named 'nothing' (python -m workbench hypothesis list shows them)\n"
    )


# --- the other outcomes, hand-counted on the tiny extract ----------------------------------------------


def results(done) -> list[tuple]:
    return [(r["period"], r["not_run"] or counts(r)) for r in done]


def test_closed_within_days_counts_each_childs_first_case_in_the_period(workspace, make_engine):
    # Discovery: T1's C1 (R1 2025-04-03, closed 2025-10-15: 195 days); T2's C2, C3 open. R4 (T1) is NFA.
    write(workspace, "fast", outcome="closed", outcome_options={"days": 200})
    write(workspace, "faster", outcome="closed", outcome_options={"days": 194})
    done = run_hypotheses(workspace, make_engine(manifest=LATER))
    assert results(done) == [
        ("discovery", (1, 1, 0, 2)), ("confirmation", (0, 1, 0, 1)),  # R7 and R6 still open
        ("discovery", (0, 1, 0, 2)), ("confirmation", (0, 1, 0, 1)),
    ]  # fmt: skip
    assert hypothesis_details(workspace, "fast")["outcome"] == "case closed within 200 days"


def test_closed_within_days_waits_for_its_follow_up(workspace, make_engine):
    write(workspace, "fast", outcome="closed", outcome_options={"days": 200})
    done = run_hypotheses(workspace, make_engine())  # as_of 2026-03-31: 2025-09-30 + 200 days is 2026-04-18
    assert done[0]["not_run"] == (
        "case closed within 200 days needs 200 days' follow-up after 2025-09-30: an extract with as_of on or after "
        "2026-04-18"
    )


def test_service_success_counts_assessable_first_episodes(workspace, make_engine):
    # SE1 (C1, T1, started 2025-05-01): R1 closed 2025-10-15, a year before as_of 2027-03-31, and C1 was
    # referred again (R7, 2026-01-15) within the year: assessable, not a success. SE2 (C2, T2): R2 open.
    write(workspace, "svc", outcome="service")
    write(workspace, "svc2", outcome="service", outcome_options={"service_id": "SV2"})
    done = run_hypotheses(workspace, make_engine(manifest=LATER))
    assert results(done) == [
        ("discovery", (0, 1, 0, 0)), ("confirmation", (0, 0, 0, 0)),
        ("discovery", (0, 0, 0, 0)), ("confirmation", (0, 0, 0, 0)),
    ]  # fmt: skip
    assert done[0]["effect"] is None  # the comparison has no assessable child: no effect
    assert hypothesis_details(workspace, "svc2")["outcome"] == "no new referral within a year of service SV2"


def test_neet_counts_young_people_whose_outcome_is_known(workspace, make_engine):
    # C5 (born 2008-06-10, T3's R5 2025-11-20): Year 12 from 2024-09-01, window to 2026-02-28, NEET on
    # 2026-01-31. C4's window opens in 2026; C1 (T1) has no status, so T1 has no known outcome.
    create_hypothesis(
        workspace, "neet", "T3's young people are more often NEET", {"team_id": "T3"}, T1, "neet",
        DISCOVERY, CONFIRMATION,
    )  # fmt: skip
    assert results(run_hypotheses(workspace, make_engine())) == [
        ("discovery", (0, 0, 0, 0)),
        ("confirmation", (1, 1, 0, 0)),
    ]


def test_an_outcome_whose_table_is_absent_is_not_run_and_says_why(workspace, make_engine):
    create_hypothesis(workspace, "neet", "x", {"team_id": "T3"}, T1, "neet", DISCOVERY, CONFIRMATION)
    done = run_hypotheses(workspace, make_engine(drop=("neet_status",)))
    assert [r["not_run"] for r in done] == [
        "A hypothesis's NEET outcome in one cohort and period cannot be shown: the neet_status table is not in "
        "this extract."
    ] * 2


def test_an_audit_answer_outcome_counts_recorded_answers_in_each_cohort(workspace, make_engine):
    from workbench.audits import create_audit, record_answers
    from workbench.questions import parse_question
    from workbench_fixtures import forty_children

    engine = make_engine(forty_children)  # C01-C30 referred to T1 on 2025-06-01, C31-C40 to T2
    pd = parse_question("pd|Parent has a personality disorder|yes_no")
    create_audit(workspace, engine, "files", {"team_id": "T1"}, 30, 1, [pd], comparison=T2, comparison_size=10)
    for i in range(1, 41):
        answer = "not recorded" if i == 30 else "yes" if i <= 10 or i in (31, 32) else "no"
        record_answers(workspace, "files", f"C{i:02d}", {"pd": answer}, by="reader@council.gov.uk")
    write(workspace, "pd", outcome="audit", outcome_options={"audit": "files", "question": "pd", "answer": "Yes"})
    done = run_hypotheses(workspace, engine)
    assert results(done) == [("discovery", (10, 29, 2, 10)), ("confirmation", (0, 0, 0, 0))]
    assert done[0]["effect"] == pytest.approx(10 / 29 - 2 / 10)
    assert hypothesis_details(workspace, "pd")["outcome"] == "answer 'yes' to pd in audit files"


@pytest.mark.parametrize(
    ("outcome", "options", "message"),
    [
        ("closed", {"days": 0}, "DAYS is 1 to 3650"),
        ("neet", {"days": 10}, "the outcome neet does not take days"),
        ("audit", {"audit": "none", "question": "pd", "answer": "yes"}, "there is no audit named 'none'"),
        ("audit", {"audit": "none"}, "needs the audit, its question and the answer"),
        ("bored", {}, "the outcome is one of rereferral, factor, closed, service, neet, audit"),
    ],
)
def test_an_outcome_that_does_not_fit_is_refused(workspace, outcome, options, message):
    with pytest.raises(HypothesisError, match=message):
        write(workspace, "x", outcome=outcome, outcome_options=options)
