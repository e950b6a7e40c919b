"""The Front door page on the tiny extract: what it shows, for whom, and without a contacts table.

Hand counts as in tests/test_front_door.py: 11 contacts, 7 became referrals R1-R7; 5 assessed, 2 section 47
enquiries, 1 ICPC, 1 CP plan. T1's team manager: 6 contacts, 3 became referrals, 3 referrals.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from app import page_meta, page_roles
from helpers import open_app_page, table_with
from queries.access import Scope
from tiny_extract import tiny_tables, write_extract

ROOT = Path(__file__).resolve().parent.parent
HEAD = Scope("head_of_service", "head@tiny.gov.uk")
T1_MANAGER = Scope("team_manager", "manager@tiny.gov.uk", worker_id="W2", team_id="T1")
CONVERSION = "Conversion from the step before (95% interval)"


def flow_rows(at) -> list[tuple]:
    table = table_with(at, CONVERSION)
    return list(zip(table["Step"], table["Number"], table[CONVERSION], strict=True))


def test_who_may_open_it():
    roles = page_roles(page_meta(ROOT / "pages/front_door.py"))
    assert {"head_of_service", "team_manager"} <= set(roles) and "social_worker" not in roles


def test_the_flow_sources_and_timeliness_on_the_tiny_extract(tiny_dir, monkeypatch):
    at = open_app_page("front_door", tiny_dir, monkeypatch)
    assert not at.exception and not at.error
    assert flow_rows(at) == [
        ("Contacts", "11", "–"),
        ("Referrals", "7", "64% (35%–85%)"),  # 7 of 11 contacts became a referral
        ("Assessed", "5", "71% (36%–92%)"),
        ("Section 47 enquiry", "2", "40% (12%–77%)"),
        ("Initial conference (ICPC)", "1", "50% (9%–91%)"),
        ("Child protection plan", "1", "100% (21%–100%)"),
    ]
    outcomes = table_with(at, "What happened")
    assert dict(zip(outcomes["What happened"], outcomes["Contacts"], strict=True)) == {
        "Became a referral": "7", "No further action": "1", "Information and advice": "1",
        "Referred to early help": "1", "Other outcome": "0", "Recorded as a referral, none found": "0",
        "No outcome recorded": "1",
    }  # fmt: skip
    sources = table_with(at, "Referral source")
    police = sources.iloc[list(sources["Referral source"]).index("Police")]
    # February 2026: K9 (advice); the 12 months before: K6, which became R6. Too few to judge.
    assert (police["Contacts this month"], police["Became referrals"], police["Share, 12 months before"]) == (
        "1",
        "0",
        "100%",
    )
    assert police["This month"] == "Not judged: too few contacts"
    timely = table_with(at, "Median working days (middle half)").set_index("Measure")
    assert list(timely.loc["Contact to referral", ["Number", "Meeting it", "England"]]) == ["7", "6", "not published"]
    assert list(timely.loc["Assessment authorised", ["Number", "Share (95% interval)"]]) == ["3", "100% (44%–100%)"]
    assert timely.loc["Initial child protection conference", "England"] == "81.4% (2025)"
    assert timely.loc["Re-referrals", "Share (95% interval)"] == "14% (3%–51%)"
    words = " ".join(c.value for c in at.caption)
    assert "Contacts are not published nationally" in words and "1 April 2025 to 31 March 2026" in words


def test_a_shorter_period(tiny_dir, monkeypatch):
    at = open_app_page("front_door", tiny_dir, monkeypatch)
    at.radio(key="front_door_period").set_value("Last 3 months").run()
    # January to March 2026: K6, K7 (became R6, R7), K9, K10, K11; R7 assessed.
    assert flow_rows(at)[:3] == [
        ("Contacts", "5", "–"),
        ("Referrals", "2", "40% (12%–77%)"),
        ("Assessed", "1", "50% (9%–91%)"),
    ]


def test_a_head_of_service_sees_small_counts_hidden(tiny_dir, monkeypatch):
    at = open_app_page("front_door", tiny_dir, monkeypatch, scope=HEAD)
    assert not at.exception and not at.error
    assert flow_rows(at) == [
        ("Contacts", "11", "–"),
        ("Referrals", "7", "64% (35%–85%)"),
        ("Assessed", "c", "c"),
        ("Section 47 enquiry", "c", "c"),
        ("Initial conference (ICPC)", "c", "c"),
        ("Child protection plan", "c", "c"),
    ]
    assert any("too few to show safely" in c.value for c in at.caption)
    assert any("Counts about children are protected" in c.value for c in at.caption)


def test_a_team_manager_sees_their_own_team(tiny_dir, monkeypatch):
    at = open_app_page("front_door", tiny_dir, monkeypatch, scope=T1_MANAGER)
    assert not at.exception and not at.error
    assert at.selectbox(key="front_door_team").options == ["Assessment North"]
    assert flow_rows(at)[:3] == [
        ("Contacts", "6", "–"),
        ("Referrals", "3", "50% (19%–81%)"),
        ("Assessed", "2", "67% (21%–94%)"),
    ]


def test_without_contacts_it_says_so_and_shows_the_rest(tmp_path, monkeypatch):
    folder = write_extract(tmp_path / "no_contacts", drop=("contacts",))
    at = open_app_page("front_door", folder, monkeypatch)
    assert not at.exception and not at.error
    assert any("no contacts table" in i.value for i in at.info)
    assert any("the contacts table is not in this extract" in w.value for w in at.warning)  # by source: refused
    assert flow_rows(at)[0] == ("Referrals", "7", "–")
    assert "Median working days (middle half)" in " ".join(c for d in at.dataframe for c in d.value.columns)


def test_a_team_with_no_contacts_shows_a_dash_not_a_hidden_share(tmp_path, monkeypatch):
    tables = tiny_tables()
    tables["contacts"] = tables["contacts"].with_columns(
        pl.when(pl.col("team_id") == "T3").then(pl.lit("T1")).otherwise(pl.col("team_id")).alias("team_id")
    )  # K5, T3's only contact, handled by T1 instead
    at = open_app_page("front_door", write_extract(tmp_path / "t3", tables), monkeypatch)
    at.selectbox(key="front_door_team").set_value("T3").run()
    # T3 now handled no contacts and holds R5 (assessed): nothing is hidden, there is nothing to divide by.
    assert flow_rows(at)[:3] == [("Contacts", "0", "–"), ("Referrals", "1", "–"), ("Assessed", "1", "100% (21%–100%)")]


def test_counts_in_the_notes_agree_with_their_nouns(tiny_dir, monkeypatch):
    """T1's manager: 1 contact in the last 30 days, and 1 referral (a plan with no conference) skipped a step."""
    at = open_app_page("front_door", tiny_dir, monkeypatch, scope=T1_MANAGER)
    notes = " ".join(c.value for c in at.caption)
    assert "1 contact was made in the last 30 days" in notes
    assert "1 referral was recorded at a later step" in notes
    assert "1 referrals" not in notes and "1 contacts" not in notes
