"""The Services page: the planted differences visible on the sample; small numbers never shown."""

from pathlib import Path

from helpers import open_app_page, table_with
from queries.access import Scope
from schemas.extract import SAMPLE_DATA

HEAD = Scope("head_of_service", "head@example.gov.uk")
COST_PER_SUCCESS = "Cost per success (95% interval; incl. those who would have done well anyway)"

ROOT = Path(__file__).resolve().parent.parent


def test_planted_differences_on_the_sample(monkeypatch):
    at = open_app_page("services", SAMPLE_DATA, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    summary = at.success[0].value
    assert "Family Group Conference" in summary and "Residential Parenting Assessment" in summary
    outcomes = table_with(at, COST_PER_SUCCESS)
    by_name = {row["Service"]: row for _, row in outcomes.iterrows()}
    # The page shows the question's figures (an analyst sees them exactly).
    from queries.engine import Engine
    from schemas.extract import open_extract

    engine = Engine(open_extract(SAMPLE_DATA))
    try:
        answer = {r["service_name"]: r for r in engine.run("service_outcomes").iter_rows(named=True)}
    finally:
        engine.close()
    for name in ("Family Group Conference", "Residential Parenting Assessment"):
        rate = answer[name]
        assert by_name[name]["Success rate (95% interval)"] == (
            f"{rate['success_rate']:.0%} ({rate['ci_low']:.0%} to {rate['ci_high']:.0%})"
        )
        assert by_name[name]["Episodes judged"] == f"{answer[name]['assessable']:,}"
    # The planted order: the family group conference well above the residential assessment.
    assert answer["Family Group Conference"]["ci_low"] > answer["Residential Parenting Assessment"]["ci_high"]
    comparison = table_with(at, "What the data say")
    verdicts = dict(zip(comparison["Service"], comparison["What the data say"], strict=True))
    assert verdicts["Residential Parenting Assessment"].startswith("Worse")
    assert verdicts["Multisystemic Therapy"].startswith("The data cannot tell")
    assert "Cost per additional child with no new referral (95% interval)" in comparison.columns
    # Ten services compared at once: the page says the intervals are widened, and how.
    assert any("99.5%" in c.value and "Bonferroni" in c.value for c in at.caption)
    # Cost per success is labelled for what it is.
    assert "would have had no new referral anyway" in summary
    placements = table_with(at, "Annual spend")
    assert "Children's home" in list(placements["Placement"])
    # Five charts: cost against success, how episodes ended, the comparison, spend by month, placements.
    assert len(at.get("plotly_chart")) == 5
    assert "31 March 2026" in "\n".join(m.value for m in at.markdown)


def test_small_counts_are_hidden_everywhere(monkeypatch):
    at = open_app_page("services", SAMPLE_DATA, monkeypatch, scope=HEAD)
    for frame in (d.value for d in at.dataframe):
        for column in ("Children", "Episodes judged", "No new referral within a year", "Too recent to judge",
                       "Cannot be judged (turned 18, moved, died)", "Still running",
                       "Episodes matched", "Not matched", "Episodes", "Cost not recorded"):  # fmt: skip
            if column in frame.columns:
                shown = [v for v in frame[column] if v not in ("c",)]
                assert all(int(str(v).replace(",", "")) == 0 or int(str(v).replace(",", "")) > 5 for v in shown), column
    # Ongoing episodes of the residential assessment (2) and the placed-for-adoption child (1) are hidden.
    outcomes = table_with(at, COST_PER_SUCCESS)
    assert (
        dict(zip(outcomes["Service"], outcomes["Still running"], strict=True))["Residential Parenting Assessment"]
        == "c"
    )
    placements = table_with(at, "Annual spend")
    rows = {row["Code"]: row for _, row in placements.iterrows()}
    assert rows["A6"]["Children"] == "c" and rows["A6"]["Average weekly cost"] == "c"


def test_tiny_extract_shows_nothing_small(tiny_dir, monkeypatch):
    at = open_app_page("services", tiny_dir, monkeypatch, scope=HEAD)
    assert not at.exception
    assert not at.error
    outcomes = table_with(at, COST_PER_SUCCESS)
    # Every service has 1-5 children: counts and what derives from them are hidden.
    assert set(outcomes["Children"]) == {"c"}
    assert set(outcomes["Cost per child"]) == {"c"}
    assert any("enough judged episodes" in i.value for i in at.info)
    comparison = table_with(at, "What the data say")
    assert all(v.startswith("Cannot tell yet") for v in comparison["What the data say"])


def test_without_service_tables_the_page_says_why(tmp_path, monkeypatch):
    from tiny_extract import write_extract

    folder = write_extract(tmp_path / "no_services", drop=("services", "service_episodes"))
    at = open_app_page("services", folder, monkeypatch)
    assert not at.exception
    assert any("services table is not in this extract" in w.value for w in at.warning)
    assert table_with(at, "Annual spend") is not None  # placement costs still shown
