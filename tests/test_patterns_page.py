"""The Patterns page: the planted finding at a glance on the sample; small numbers never shown."""

from pathlib import Path

from helpers import open_app_page
from queries.access import Scope
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent
HEAD = Scope("head_of_service", "head@example.gov.uk")


def test_planted_finding_visible_at_a_glance(monkeypatch):
    at = open_app_page("patterns", SAMPLE_DATA, monkeypatch)
    assert not at.exception
    summary = at.success[0].value
    assert "Parent or carer has a personality disorder" in summary
    assert "Parent or carer was abused as a child" in summary


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
