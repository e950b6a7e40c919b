"""`python -m workbench audit …` on the shipped sample: create, sample, record, estimate; plain errors, exit codes."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import polars as pl
import pytest

from schemas.extract import SAMPLE_DATA
from workbench.__main__ import main

PD = "pd|Parent has a personality disorder|yes_no"


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    """Run the command line on the sample with a fresh SQLite workspace: (exit code, stdout, stderr)."""
    monkeypatch.delenv("CHILDSTAT_WORKSPACE", raising=False)
    where = ["--workspace", str(tmp_path / "ws.sqlite"), "--data", str(SAMPLE_DATA)]

    def run(*args: str):
        code = main([*args, *where])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_an_audit_end_to_end_on_the_sample(cli, sample_engine, caplog):
    caplog.set_level(logging.DEBUG)
    code, out, _ = cli("audit", "create", "pd-t07", "--cohort", "team_id=T07", "--size", "40", "--seed", "1",
                       "--strata", "age_band", "--question", PD, "--by", "analyst@council.gov.uk")  # fmt: skip
    cohort = sample_engine.run("audit_cohort", team_id="T07", stratify_by="age_band")
    assert code == 0 and out == f"cohort: 40 of {cohort.height:,} children drawn (5 strata)\n"

    code, out, _ = cli("audit", "sample", "pd-t07", "--format", "csv")
    sample = pl.read_csv(io.StringIO(out))
    assert code == 0 and sample.columns == ["child_id", "stratum", "sample_order", "sample_group"]
    assert sample.height == 40 and sample["sample_order"].to_list() == list(range(1, 41))
    assert set(sample.select("child_id", "stratum").rows()) <= set(cohort.rows())

    # Read the files in order: the first 10 children's files record a personality disorder, the rest not.
    for child, order in sample.select("child_id", "sample_order").rows():
        answer = "yes" if order <= 10 else "no"
        assert cli("audit", "record", "pd-t07", child, f"pd={answer}", "--by", "reviewer@council.gov.uk")[0] == 0

    code, out, _ = cli("audit", "estimate", "pd-t07", "--format", "json")
    rows = {r["answer"]: r for r in json.loads(out)}
    assert code == 0 and list(rows) == ["yes", "no", "not recorded"]
    yes = rows["yes"]
    assert (yes["answered"], yes["count"], yes["sample_pct"], yes["cohort_size"]) == (40, 10, 25.0, cohort.height)
    # The stratified estimate by hand from the sample: each stratum's share of yes, weighted by its cohort share.
    sizes = cohort.group_by("stratum").len("N")
    shares = sample.group_by("stratum").agg(p=(pl.col("sample_order") <= 10).mean()).join(sizes, on="stratum")
    expected = (shares["p"] * shares["N"]).sum() / cohort.height
    assert yes["estimated_pct"] == pytest.approx(100 * expected, abs=0.05)
    assert yes["ci_low"] < yes["estimated_pct"] < yes["ci_high"]
    assert yes["estimated_children"] == round(expected * cohort.height)
    assert rows["not recorded"]["count"] == 0 and rows["not recorded"]["estimated_pct"] == 0.0

    code, out, _ = cli("audit", "estimate", "pd-t07", "--format", "csv")
    assert out.splitlines()[0] == (
        "question,answer,sample,answered,count,sample_pct,cohort_size,estimated_pct,ci_low,ci_high,estimated_children"
    )
    code, out, _ = cli("audit", "progress", "pd-t07")
    assert out.splitlines()[1] == "cohort,pd,40,40,100.0"
    children = set(cohort["child_id"])
    assert not [r.getMessage() for r in caplog.records if any(c in r.getMessage() for c in children)]


def test_the_same_seed_gives_the_same_sample_in_another_workspace(cli, tmp_path, capsys):
    cli("audit", "create", "a", "--cohort", "team_id=T07", "--cohort", "sex=F", "--size", "12", "--seed", "5")
    first = cli("audit", "sample", "a")[1]
    other = ["--workspace", str(tmp_path / "other.sqlite")]
    main(
        ["audit", "create", "a", "--cohort", "sex=F", "--cohort", "team_id=T07", "--size", "12", "--seed", "5", *other]
    )
    capsys.readouterr()
    main(["audit", "sample", "a", *other])
    assert capsys.readouterr().out == first


def test_a_comparison_sample_and_answers_with_history(cli):
    code, out, _ = cli("audit", "create", "cmp", "--cohort", "team_id=T07", "--compare", "team_id=T02",
                       "--size", "10", "--compare-size", "8", "--seed", "3", "--question", PD)  # fmt: skip
    assert code == 0 and out.splitlines()[1].startswith("comparison: 8 of ")
    sample = pl.read_csv(io.StringIO(cli("audit", "sample", "cmp", "--sample", "comparison")[1]))
    child = sample["child_id"][0]
    cli("audit", "record", "cmp", child, "pd=yes", "--by", "a@x.gov.uk")
    cli("audit", "record", "cmp", child, "pd=not recorded", "--by", "b@x.gov.uk")
    history = pl.read_csv(io.StringIO(cli("audit", "answers", "cmp", "--history")[1]))
    assert history.select("value", "recorded_by", "current").rows() == [
        ("yes", "a@x.gov.uk", False),
        ("not recorded", "b@x.gov.uk", True),
    ]


def test_estimates_as_a_head_of_service_are_protected(cli):
    cli("audit", "create", "small", "--cohort", "team_id=T07", "--size", "6", "--seed", "2", "--question", PD)
    sample = pl.read_csv(io.StringIO(cli("audit", "sample", "small")[1]))
    for child in sample["child_id"]:
        cli("audit", "record", "small", child, "pd=no", "--by", "a@x")
    exact = json.loads(cli("audit", "estimate", "small", "--format", "json")[1])
    assert exact[1]["count"] == 6
    protected = json.loads(cli("audit", "estimate", "small", "--format", "json", "--as", "head_of_service")[1])
    # 6 of 6 answered "no": 6 is above the threshold of 5 and shown; the zeros are shown; nothing is small.
    assert [r["count"] for r in protected] == [0, 6, 0]
    cli("audit", "record", "small", sample["child_id"][0], "pd=yes", "--by", "a@x")
    protected = json.loads(cli("audit", "estimate", "small", "--format", "json", "--as", "head_of_service")[1])
    assert [r["count"] for r in protected] == [None, None, 0]  # 1 yes hidden, so is 5 no (6 answered)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "sample", "nope"], "there is no audit named 'nope'"),
        (["audit", "create", "x", "--size", "5", "--seed", "1"], "at least one --cohort"),
        (["audit", "create", "x", "--cohort", "sex=X", "--size", "5", "--seed", "1"], "sex must be one of M, F, U"),
        (["audit", "create", "x", "--cohort", "team_id=T07", "--size", "5", "--seed", "1", "--question", "pd|x|maybe"],
         "the kind must be one of"),
    ],
)  # fmt: skip
def test_bad_input_is_one_plain_line_and_exit_2(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_bad_answer_or_a_child_outside_the_sample_names_no_child(cli):
    cli("audit", "create", "a", "--cohort", "team_id=T07", "--size", "5", "--seed", "1", "--question", PD)
    child = pl.read_csv(io.StringIO(cli("audit", "sample", "a")[1]))["child_id"][0]
    code, _, err = cli("audit", "record", "a", child, "pd=perhaps", "--by", "a@x")
    assert code == 2 and err == "error: pd: answer yes, no or not recorded\n"
    code, _, err = cli("audit", "record", "a", "C9999999", "pd=yes", "--by", "a@x")
    assert code == 2 and "not in the sample" in err and "C9999999" not in err


def test_a_hosted_instance_without_a_workspace_exits_2(capsys, monkeypatch):
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    monkeypatch.delenv("CHILDSTAT_WORKSPACE", raising=False)
    monkeypatch.setattr("workbench.workspace.setting", lambda key: "")
    assert main(["audit", "list"]) == 2
    assert "hosted instance needs its workspace named" in capsys.readouterr().err


def test_python_dash_m_workbench_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "list", "--workspace", str(tmp_path / "w.sqlite")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("name,cohort,")
    missing = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "record", "x", "C1", "pd=yes"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "--by" in missing.stderr  # argparse: the reviewer must be named
