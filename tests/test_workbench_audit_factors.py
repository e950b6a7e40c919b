"""Audit factors: an audited answer made a local factor, and its shares in a Patterns cohort (from a sample).

On forty_children (C01-C30 referred to T1, C31-C40 to T2, all on 2025-06-01) the audit reads every T1
file and a comparison sample of every T2 file, so the counts below are by hand: in T1, C01-C09 yes, C10
not recorded, the rest no; in T2, C31-C33 yes, the rest no.
"""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from queries.access import Scope
from workbench.audit_factors import AuditFactorError, factor_prevalence, list_factors, make_factor, protected_prevalence
from workbench.audits import create_audit, record_answers
from workbench.questions import parse_question
from workbench_fixtures import forty_children

PD = parse_question("pd|Parent has a personality disorder|yes_no")
HOME = parse_question("home|Where the child lives|category|parents, kin, foster")
VISITS = parse_question("visits|Home visits|number")


@pytest.fixture
def audited(workspace, make_engine):
    engine = make_engine(forty_children)
    create_audit(
        workspace, engine, "files", {"team_id": "T1"}, 30, 1, [PD, HOME, VISITS], comparison={"team_id": "T2"},
        comparison_size=10,
    )  # fmt: skip
    for i in range(1, 41):
        pd = "not recorded" if i == 10 else "yes" if i < 10 or 31 <= i <= 33 else "no"
        record_answers(workspace, "files", f"C{i:02d}", {"pd": pd, "home": "kin"}, by="reader@council.gov.uk")
    return engine


def test_an_answer_becomes_a_factor_with_source_case_file_audit(workspace, audited):
    assert make_factor(workspace, "files", "pd", "YES", "PD", "Parent has a  personality disorder", "a@x") == "yes"
    assert list_factors(workspace).to_dicts() == [
        {"factor_code": "PD", "label": "Parent has a personality disorder", "audit": "files", "question": "pd",
         "answer": "yes", "source": "case_file_audit"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "answer", "code", "message"),
    [
        ("pd", "yes", "3B", "3B is a CIN census factor code"),
        ("pd", "yes", "P D", "a factor code is a letter"),
        ("pd", "not recorded", "PD", "'not recorded' cannot be a factor"),
        ("pd", "maybe", "PD", "answer yes, no or not recorded"),
        ("visits", "3", "V", "question visits is a number"),
        ("gone", "yes", "G", "has no question 'gone'"),
    ],
)
def test_a_factor_that_does_not_fit_is_refused(workspace, audited, question, answer, code, message):
    with pytest.raises(AuditFactorError, match=message):
        make_factor(workspace, "files", question, answer, code, "A label", "a@x")


def test_the_same_code_twice_is_refused(workspace, audited):
    make_factor(workspace, "files", "home", "kin", "KIN", "Lives with kin", "a@x")
    with pytest.raises(AuditFactorError, match="already an audit factor KIN"):
        make_factor(workspace, "files", "pd", "yes", "KIN", "Again", "a@x")


def test_shares_in_a_patterns_cohort_and_its_comparison(workspace, audited):
    make_factor(workspace, "files", "pd", "yes", "PD", "Parent has a personality disorder", "a@x")
    row = factor_prevalence(workspace, audited, {"team_id": "T1"}).row(0, named=True)
    # T1: 30 read, C10 not recorded: 9 of 29. Everyone else read: T2's 10, 3 of them yes.
    assert (row["sampled"], row["cohort_with"], row["cohort_n"], row["not_recorded"]) == (30, 9, 29, 1)
    assert (row["rest_with"], row["rest_n"]) == (3, 10)
    low, high = proportion_confint(9, 29, method="wilson")
    assert (row["cohort_pct"], row["cohort_low"], row["cohort_high"]) == (
        round(100 * 9 / 29, 1), round(100 * low, 1), round(100 * high, 1)
    )  # fmt: skip
    assert row["difference"] == round(100 * (9 / 29 - 3 / 10), 1)
    assert row["difference_low"] < row["difference"] < row["difference_high"]
    # Compared with team T2 only: the same children here; a cohort of girls (odd numbers) in T1: 14 of 15 answered.
    same = factor_prevalence(workspace, audited, {"team_id": "T1", "compare_team_id": "T2"}).row(0, named=True)
    assert (same["rest_with"], same["rest_n"]) == (3, 10)
    girls = factor_prevalence(workspace, audited, {"team_id": "T1", "sex": "F"}).row(0, named=True)
    assert (girls["cohort_with"], girls["cohort_n"], girls["sampled"]) == (5, 15, 15)  # C01 C03 C05 C07 C09


def test_a_user_who_sees_protected_figures_gets_small_counts_hidden(workspace, audited):
    make_factor(workspace, "files", "pd", "yes", "PD", "Parent has a personality disorder", "a@x")
    exact = factor_prevalence(workspace, audited, {"team_id": "T1"})
    manager = protected_prevalence(exact, Scope("team_manager", "m@x", None, "T1"))
    row = manager.row(0, named=True)
    assert row["cohort_n"] == 29 and row["rest_with"] is None and row["rest_pct"] is None  # 3: 1 to 5 is hidden
    assert row["difference"] is None  # it rests on the hidden count
    assert protected_prevalence(exact, Scope("analyst", "a@x", None, None)).equals(exact)


def test_the_command_line_makes_and_shows_a_factor(workspace_location, audited, tmp_path, capsys):
    from workbench.__main__ import main

    extract = audited.extract.path
    base = ["--workspace", workspace_location]
    assert main(["audit", "factor", "files", "--question", "pd", "--answer", "yes", "--code", "PD",
                 "--label", "Parent has a personality disorder", *base]) == 0  # fmt: skip
    assert main(["audit", "factors", "--cohort", "team_id=T1", "--data", str(extract), "--format", "json", *base]) == 0
    out = capsys.readouterr().out
    assert '"cohort_with": 9' in out and '"cohort_n": 29' in out and '"source": "case_file_audit"' in out
    assert main(["audit", "factor", "files", "--question", "pd", "--answer", "yes", "--code", "3B",
                 "--label", "x", *base]) == 2  # fmt: skip
    assert "3B is a CIN census factor code" in capsys.readouterr().err
