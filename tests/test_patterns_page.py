"""The Patterns page: the planted finding at a glance on the sample; small numbers never shown."""

import datetime as dt
import json
from pathlib import Path

import pytest
from test_patterns import PAIR_COHORT, cohort_of

from helpers import open_app_page, table_with
from queries.access import Scope
from queries.engine import Engine
from schemas.extract import SAMPLE_DATA, open_extract
from tiny_extract import tiny_tables, write_extract

ROOT = Path(__file__).resolve().parent.parent
HEAD = Scope("head_of_service", "head@example.gov.uk")


def test_planted_finding_visible_at_a_glance(monkeypatch):
    at = open_app_page("patterns", SAMPLE_DATA, monkeypatch)
    assert not at.exception
    summary = at.success[0].value
    assert "Parent or carer has a personality disorder" in summary
    assert "Parent or carer was abused as a child" in summary
    assert any("exploratory findings" in m.value for m in at.markdown)
    # The planted pattern is in every year of the sample, so it holds up on the later referrals.
    checked = table_with(at, "Held up?")
    verdicts = dict(zip(checked["Factor"], checked["Held up?"], strict=True))
    assert verdicts["Parent or carer has a personality disorder"] == "held up"
    assert any("findings in the earlier referrals held up" in m.value for m in at.markdown)


def test_small_counts_are_protected_in_the_table_for_a_head_of_service(monkeypatch):
    at = open_app_page("patterns", SAMPLE_DATA, monkeypatch, scope=HEAD)
    table = next(d.value for d in at.dataframe if "Cohort: children" in d.value.columns)
    for column in ("Cohort: children", "Comparison: children"):
        shown = [v for v in table[column] if v != "c"]
        assert all(int(v) == 0 or int(v) > 5 for v in shown), column
        assert "c" in list(table[column]) or column == "Comparison: children"


def test_tiny_cohort_is_too_small_to_show(tiny_dir, monkeypatch):
    at = open_app_page("patterns", tiny_dir, monkeypatch, scope=HEAD)
    assert not at.exception
    assert any("too small to show safely" in w.value for w in at.warning)
    assert not at.dataframe  # nothing child-level or small leaks into a table


def test_pairs_are_coloured_only_when_they_survive_and_an_empty_comparison_is_said(tmp_path, monkeypatch):
    """The hand-made cohort of test_patterns.py (all of T1, so nobody to compare with): of its six pairs, 1B-2B
    (q 0.0055), 1B-3B and 2B-3B (q 0.028) are coloured; 3B-4B (lift 1.67, q 0.52) is not."""
    folder = write_extract(tmp_path / "pairs", cohort_of(PAIR_COHORT)(tiny_tables()))
    at = open_app_page("patterns", folder, monkeypatch)
    assert not at.exception
    assert any("comparison group has no children" in w.value for w in at.warning)
    assert not any("No factor is clearly more common" in i.value for i in at.info)
    assert "nan" not in " ".join(m.value for m in at.markdown).lower()
    chart = next(c for c in at.get("plotly_chart") if "Lift" in c.proto.spec)
    grey, coloured = json.loads(chart.proto.spec)["data"]
    code = factor_codes_by_label(folder)
    rows = [code[label] for label in coloured["y"]]
    z = {(a, b): coloured["z"][i][j] for i, a in enumerate(rows) for j, b in enumerate(rows)}
    shown = {tuple(sorted(pair)) for pair, lift in z.items() if lift is not None}
    assert shown == {("1B", "2B"), ("1B", "3B"), ("2B", "3B")}
    assert len(rows) == 4 and z[("1B", "2B")] == pytest.approx(8 * 20 / (9 * 9)) and z[("1B", "3B")] == 0
    assert all(v == 0 for row in grey["z"] for v in row if v is not None)  # the rest is grey, not coloured
    assert not any("No pair of these factors" in i.value for i in at.info)


def test_an_all_grey_grid_is_said_in_words(monkeypatch):
    """On the sample's default cohort the sentence is there exactly when no square is coloured."""
    at = open_app_page("patterns", SAMPLE_DATA, monkeypatch)
    assert not at.exception
    chart = next(c for c in at.get("plotly_chart") if "Lift" in c.proto.spec)
    _, coloured = json.loads(chart.proto.spec)["data"]
    none_coloured = all(v is None for row in coloured["z"] for v in row)
    said = any("No pair of these factors was recorded together" in i.value for i in at.info)
    assert said == none_coloured


def factor_codes_by_label(folder) -> dict[str, str]:
    engine = Engine(open_extract(folder))
    try:
        pairs = engine.run("factor_cooccurrence", team_id="T1")
    finally:
        engine.close()
    return dict(zip(pairs["label_a"], pairs["factor_a"], strict=True))


def test_a_period_with_no_referrals_says_so(tmp_path, monkeypatch):
    folder = write_extract(tmp_path / "pairs", cohort_of(PAIR_COHORT)(tiny_tables()))
    at = open_app_page("patterns", folder, monkeypatch)
    at.checkbox(key="cohort_period").check().run()
    at.selectbox(key="cohort_from").set_value(dt.date(2024, 1, 1))
    at.selectbox(key="cohort_to").set_value(dt.date(2024, 12, 1)).run()
    assert not at.exception
    assert any("No child with a referral in this period matches this cohort" in w.value for w in at.warning)
    assert not at.dataframe


def test_an_audit_factor_is_shown_apart_as_from_a_sample(tmp_path, monkeypatch, sample_engine):
    """An audit of the default cohort's team (20 files read: 5 yes, 1 not recorded) made factor PD."""
    from workbench.audit_factors import make_factor
    from workbench.audits import audit_sample, create_audit, record_answers
    from workbench.questions import parse_question
    from workbench.workspace import open_workspace

    teams = sample_engine.run("team_list")
    team = teams.filter(teams["focus"].is_not_null())["team_id"][0]  # the Patterns page's default cohort
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(tmp_path / "ws.sqlite"))
    ws = open_workspace(tmp_path / "ws.sqlite")
    pd = parse_question("pd|Parent has a personality disorder|yes_no")
    create_audit(ws, sample_engine, "deep dive", {"team_id": team}, 20, 7, [pd])
    for order, child in enumerate(audit_sample(ws, "deep dive")["child_id"], start=1):
        answer = "yes" if order <= 5 else "not recorded" if order == 6 else "no"
        record_answers(ws, "deep dive", child, {"pd": answer}, by="reader@council.gov.uk")
    make_factor(ws, "deep dive", "pd", "yes", "PD", "Parent has a personality disorder (case files)", "a@x")
    ws.dispose()
    at = open_app_page("patterns", SAMPLE_DATA, monkeypatch, scope=Scope("analyst", "analyst@council.gov.uk"))
    assert not at.exception, [e.value for e in at.exception]
    table = table_with(at, "Cohort: read files with it")
    assert table["Factor"].tolist() == ["Parent has a personality disorder (case files)"]
    assert table["Files read in the cohort"].tolist() == ["20"]
    assert table["Cohort: read files with it"][0].startswith("5 of 19: 26.3% (")
    assert table["Comparison: read files with it"].tolist() == ["no files read"]
    assert table["Cohort: not recorded"].tolist() == ["1"]
    assert any("from a sample" in m.value for m in at.markdown)
