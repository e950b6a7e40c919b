"""Patterns: the factors a cohort of children shares, compared with other children, with honest statistics."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from plotly.subplots import make_subplots

from pages._charts import interval_bars, series_style
from pages._charts import show as show_chart
from pages._frame import brief, current_scope, formatted, opened_engine, page_main, run, show_table
from pages._workspace import workspace
from queries.engine import QueryError
from queries.models.pattern_replication import replication_summary
from queries.models.patterns import plain_findings
from queries.settings import setting
from queries.wording import counted, p_text, p_value
from schemas.codes import labels
from workbench.audit_factors import PERCENTS, factor_prevalence, list_factors, protected_prevalence
from workbench.workspace import WorkspaceError

PAGE = {
    "title": "Patterns",
    "icon": ":material/hub:",
    "roles": ["team_manager", "analyst", "head_of_service", "admin"],
    "order": 20,
    "needs": ["referrals", "factors"],
    "description": "For an analyst: build a cohort (team, CP category, need, age, sex, ethnicity, period) and see "
    "which recorded factors its children share compared with everyone else, with 95% intervals, lift, "
    "Fisher p and false-discovery q-values; which factors go together; and a plain-words summary.",
}

Q_THRESHOLD = 0.05
SUBJECT_WORDS = {"parent": "About a parent or carer", "household": "About the household", "child": "About the child"}
AGE_BANDS = ["unborn", "under 1", "1-4", "5-9", "10-15", "16+"]
ETHNICITY_GROUPS = ["White", "Mixed", "Asian", "Black", "Other", "Not known"]
SEX_WORDS = {"F": "Female", "M": "Male", "U": "Unknown"}
ANY = None


def any_or(words: dict[str, str]):
    return lambda value: "Any" if value is ANY else words.get(value, value)


def cohort_builder(container, teams: pl.DataFrame, as_of: dt.date) -> dict:
    """The cohort filters the user chose (only those set)."""
    team_names = dict(zip(teams["team_id"], teams["team_name"], strict=True))
    focus_of = {t: f for t, f in zip(teams["team_id"], teams["focus"], strict=True) if f}
    default_team = next(iter(focus_of), next(iter(team_names), None))
    team_options = [ANY, *team_names]
    columns = container.columns(3)
    filters = {
        "team_id": columns[0].selectbox(
            "Team",
            team_options,
            index=team_options.index(default_team),
            format_func=lambda t: "Any" if t is ANY else team_names[t] + (f" ({focus_of[t]})" if t in focus_of else ""),
            key="cohort_team",
        ),
        "cp_category": columns[1].selectbox(
            "CP plan category",
            [ANY, *labels("cp_category")],
            format_func=any_or(labels("cp_category")),
            key="cohort_cp",
        ),
        "primary_need": columns[2].selectbox(
            "Primary need",
            [ANY, *labels("primary_need")],
            format_func=any_or(labels("primary_need")),
            key="cohort_need",
        ),
    }
    columns = container.columns(3)
    filters["age_band"] = columns[0].selectbox("Age at referral", [ANY, *AGE_BANDS], format_func=any_or({}), key="age")
    filters["sex"] = columns[1].selectbox("Sex", [ANY, *SEX_WORDS], format_func=any_or(SEX_WORDS), key="cohort_sex")
    filters["ethnicity_group"] = columns[2].selectbox(
        "Ethnicity group", [ANY, *ETHNICITY_GROUPS], format_func=any_or({}), key="cohort_ethnicity"
    )
    columns = container.columns(3)
    if columns[0].checkbox("Only referrals in a period", key="cohort_period"):
        # Whole months: two views a day apart would differ by one day's children.
        months = month_starts(as_of, 60)
        filters["from_date"] = columns[1].selectbox(
            "From the start of", months, index=min(11, len(months) - 1), format_func=month_words, key="cohort_from"
        )
        last = columns[2].selectbox("To the end of", months, index=0, format_func=month_words, key="cohort_to")
        filters["to_date"] = month_end(last)
    compare_options = [ANY, *team_names]
    filters["compare_team_id"] = container.selectbox(
        "Compare with",
        compare_options,
        format_func=lambda t: "All other children with a referral" if t is ANY else f"The children of {team_names[t]}",
        key="cohort_compare",
    )
    return {name: value for name, value in filters.items() if value is not None}


FILE_NAME_KEYS = {
    "team_id": "team", "cp_category": "cp", "primary_need": "need", "age_band": "age", "sex": "sex",
    "ethnicity_group": "ethnicity", "from_date": "from", "to_date": "to", "compare_team_id": "compare",
    "split_date": "split",
}  # fmt: skip


def cohort_in_file_name(filters: dict) -> dict:
    """The cohort as a download's file name gives it: short keys, codes, '16+' as '16plus'."""
    return {FILE_NAME_KEYS.get(k, k): str(v).replace("+", "plus") for k, v in filters.items()}


def month_starts(as_of: dt.date, count: int) -> list[dt.date]:
    """The first days of the last `count` months up to as_of's, latest first."""
    index = as_of.year * 12 + as_of.month - 1
    return [dt.date((index - back) // 12, (index - back) % 12 + 1, 1) for back in range(count)]


def month_end(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def month_words(first: dt.date) -> str:
    return f"{first:%B %Y}"


def dot_plot(container, shown: pl.DataFrame, top: int) -> None:
    """Cohort and comparison percentages with 95% intervals, by subject, highest lift first."""
    plotted = shown.filter(pl.col("lift").is_not_null()).head(top)
    subjects = [s for s in SUBJECT_WORDS if s in plotted["subject"].to_list()]
    if not subjects:
        container.info("No factor has enough children in both groups to show safely.")
        return

    def build() -> go.Figure:
        sizes = [plotted.filter(subject=s).height for s in subjects]
        figure = make_subplots(
            rows=len(subjects),
            cols=1,
            shared_xaxes=True,
            row_heights=sizes,
            vertical_spacing=0.06,
            subplot_titles=[SUBJECT_WORDS[s] for s in subjects],
        )
        for row, subject in enumerate(subjects, start=1):
            part = plotted.filter(subject=subject).sort("lift")
            for group, style, label in (
                ("cohort", series_style(1), "This cohort"),
                ("rest", series_style(0), "Comparison group"),
            ):
                pct = part[f"{group}_pct"]
                figure.add_trace(
                    go.Scatter(
                        x=pct.to_list(),
                        y=part["label"].to_list(),
                        mode="markers",
                        marker=dict(size=10, color=style["color"], symbol=style["symbol"]),
                        name=label,
                        legendgroup=group,
                        showlegend=row == 1,
                        **interval_bars(
                            part[f"{group}_ci_low"].to_list(),
                            part[f"{group}_ci_high"].to_list(),
                            pct.to_list(),
                            style["color"],
                        ),
                        customdata=part.select(f"{group}_with", f"{group}_n", "lift").rows(),
                        hovertemplate="%{y}: %{x:.1f}% (%{customdata[0]} of %{customdata[1]} children); "
                        "lift %{customdata[2]:.1f}<extra>" + label + "</extra>",
                    ),
                    row=row,
                    col=1,
                )
        figure.update_xaxes(title_text="% of children with the factor (95% interval)", row=len(subjects), col=1)
        figure.update_layout(
            height=140 + 30 * plotted.height,
            margin=dict(l=10, r=10, t=40, b=10),
            legend=dict(orientation="h", y=1.04, x=0),
        )
        return figure

    show_chart(container, build, key="prevalence_dots", cache=(plotted, subjects))


def prevalence_table(container, shown: pl.DataFrame, filters: dict) -> None:
    symbol = setting("symbol")

    def number(column: str, digits: int = 1) -> pl.Expr:
        return pl.col(column).round(digits).cast(pl.String).fill_null(symbol)

    table = shown.select(
        pl.col("label").alias("Factor"),
        pl.col("subject").alias("About"),
        pl.col("cohort_with").cast(pl.String).fill_null(symbol).alias("Cohort: children"),
        number("cohort_pct").alias("Cohort %"),
        pl.format("{}–{}", pl.col("cohort_ci_low").round(1), pl.col("cohort_ci_high").round(1))
        .fill_null(symbol)
        .alias("95% interval"),
        pl.col("rest_with").cast(pl.String).fill_null(symbol).alias("Comparison: children"),
        number("rest_pct").alias("Comparison %"),
        number("lift", 2).alias("Lift"),
        formatted(shown["p_value"], p_value, null=symbol).alias("p"),
        formatted(shown["q_value"], p_value, null=symbol).alias("q"),
        pl.col("factor_code").alias("Code"),
    )
    show_table(
        container,
        table,
        "factor_prevalence",
        filters=cohort_in_file_name(filters),
        question="factor_prevalence",
        column_config={
            "Cohort: children": brief("Cohort", "Children in the cohort with the factor"),
            "95% interval": brief("95% CI", "The cohort % with its 95% interval"),
            "Comparison: children": brief("Comparison", "Children in the comparison group with the factor"),
            "Comparison %": brief("Comp. %", "Comparison %"),
        },
    )
    container.caption(f"'{symbol}': too few children to show safely, hidden with everything worked out from it.")


def audit_factor_section(container, filters: dict) -> None:
    """Factors found by reading case files (workbench audit factors), apart: known only for a sample."""
    try:
        ws = workspace()
    except WorkspaceError:  # no workspace set up: there are no audit factors to show (the audit pages say why)
        return
    if list_factors(ws).is_empty():
        return
    try:
        found = protected_prevalence(factor_prevalence(ws, opened_engine(container), filters), current_scope())
    except QueryError as exc:
        container.warning(f"Factors from case-file audits cannot be shown: {exc}")
        return
    symbol = setting("symbol")

    def share(group: str) -> pl.Expr:
        text = pl.format(
            "{} of {}: {}% ({}–{})", *(pl.col(c) for c in (f"{group}_with", f"{group}_n", *PERCENTS[group]))
        )
        return pl.when(pl.col(f"{group}_n") == 0).then(pl.lit("no files read")).otherwise(text.fill_null(symbol))

    container.markdown("## Factors found by reading case files (from a sample)")
    table = found.select(
        pl.col("label").alias("Factor"),
        pl.col("audit").alias("Case-file audit"),
        pl.col("sampled").cast(pl.String).fill_null(symbol).alias("Files read in the cohort"),
        share("cohort").alias("Cohort: read files with it"),
        share("rest").alias("Comparison: read files with it"),
        pl.format("{} ({} to {})", "difference", "difference_low", "difference_high")
        .fill_null("–")
        .alias("Difference, points (95% interval)"),
        pl.col("not_recorded").cast(pl.String).fill_null(symbol).alias("Cohort: not recorded"),
        pl.col("factor_code").alias("Code"),
    )
    show_table(
        container,
        table,
        "audit_factor_prevalence",
        filters=cohort_in_file_name(filters),
        title="Factors found by reading case files: the cohort against the comparison group",  # workbench, no question
    )
    container.caption(
        "These factors are not fields of the extract: they come from case-file audits (source case_file_audit), so "
        "they are known only for the children whose files were read, and each share is of those files (95% Wilson interval; "
        "difference: Newcombe's interval). 'Not recorded' answers are counted apart. A share is an estimate for "
        "the cohort only so far as the audit's random sample covers it. How it works: docs/workbench.md."
    )


def cooccurrence_heatmap(container, filters: dict, prevalence: pl.DataFrame) -> None:
    """The commonest factors' pairs, coloured by lift only where the pair survives Fisher's test and BH."""
    commonest = prevalence.drop_nulls("cohort_with").sort("cohort_with", descending=True).head(12)
    codes = commonest["factor_code"].to_list()
    names = dict(zip(commonest["factor_code"], commonest["label"], strict=True))
    pairs = run("factor_cooccurrence", container, **filters, factor_codes=",".join(codes))
    if pairs is None or pairs.is_empty():
        container.info("No two factors were recorded for the children of this cohort.")
        return
    cells = {(r["factor_a"], r["factor_b"]): r for r in pairs.iter_rows(named=True)}

    def grid(value):
        return [[value(cells.get((a, b))) for b in codes] for a in codes]

    def surviving(row) -> bool:
        return row is not None and row["q_value"] is not None and row["q_value"] < Q_THRESHOLD

    def build() -> go.Figure:
        hover = grid(
            lambda r: (
                "–"
                if r is None
                else f"{counted(r['n_both'], 'child')} with both; lift {number_text(r['lift'], '.2f')}, "
                f"{p_text(r['p_value'])}, q {p_value(r['q_value'])}"
            )
        )
        labels = [names[c] for c in codes]
        figure = go.Figure(
            [
                go.Heatmap(
                    z=grid(lambda r: None if surviving(r) else 0),
                    x=labels,
                    y=labels,
                    customdata=hover,
                    colorscale=[[0, "#eeeeee"], [1, "#eeeeee"]],
                    showscale=False,
                    hovertemplate="%{y} and %{x}: %{customdata} (not beyond chance)<extra></extra>",
                ),
                go.Heatmap(
                    z=grid(lambda r: r["lift"] if surviving(r) else None),
                    x=labels,
                    y=labels,
                    customdata=hover,
                    colorscale="RdBu_r",
                    zmid=1,
                    colorbar=dict(title="Lift"),
                    hovertemplate="%{y} and %{x}: %{customdata}<extra></extra>",
                ),
            ]
        )
        figure.update_layout(height=560, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(tickangle=-40))
        return figure

    show_chart(container, build, key="cooccurrence", cache=(pairs, codes, names))
    container.caption(
        "Each pair is tested within the cohort (Fisher's exact test on the children with both, with one only, with "
        "neither; the false discovery rate is controlled over every pair of these factors). "
        "Only pairs with q below 0.05 are coloured: red, recorded together more often than chance would give; "
        "blue, less often. Grey: no clear difference from chance, or too few children to show safely."
    )
    if not any(surviving(row) for row in cells.values()):
        container.info(
            "No pair of these factors was recorded together more often, or less often, than chance would give "
            "for this cohort, so every square is grey. That is a finding too: these factors are not seen "
            "together here any more than their own frequencies explain."
        )


def rules_table(container, filters: dict) -> None:
    rules = run("factor_rules", container, **filters)
    if rules is None:
        return
    if rules.is_empty():
        container.info("No rule is met by enough children in this cohort.")
        return
    show_table(
        container,
        rules.select(
            pl.format("Children with {} also had {}", pl.col("antecedent"), pl.col("consequent")).alias("Rule"),
            pl.col("n_children").alias("Children"),
            (100 * pl.col("support")).round(1).alias("Support %"),
            (100 * pl.col("confidence")).round(1).alias("Confidence %"),
            pl.col("lift").round(2).alias("Lift"),
        ),
        "factor_rules",
        filters=cohort_in_file_name(filters),
        question="factor_rules",
    )


def replication_section(container, filters: dict, as_of: dt.date) -> None:
    """The analyst's check: findings on the earlier referrals, confirmed (or not) on the later ones."""
    container.markdown("## Do the findings hold up on later referrals?")
    container.markdown(
        "A finding made by looking at many factors should be checked on children it was not found in. "
        "ChildStat splits this cohort's children (and the comparison group) by the date of their first "
        "referral: it looks for findings in the earlier children, then checks each on the later ones."
    )
    months = [None, *month_starts(as_of, 60)]
    split = container.selectbox(
        "Later children: first referred from",
        months,
        format_func=lambda m: "the middle (half the children each side)" if m is None else f"the start of {m:%B %Y}",
        key="replication_split",
    )
    asked = {**filters, **({"split_date": split} if split else {})}
    replication = run("factor_replication", container, **asked)
    if replication is None:
        return
    if replication.is_empty():
        container.info("No factors are recorded for the children of this cohort to check.")
        return
    first = replication.row(0, named=True)
    starts = f"{first['split_date']:%B %Y}"
    for half, words in (("discovery", f"before {starts}"), ("confirmation", f"from {starts} on")):
        sizes = [first[f"{half}_cohort_n"], first[f"{half}_rest_n"]]
        if 0 in sizes:
            group = "this cohort" if sizes[0] == 0 else "the comparison group"
            container.info(f"No child of {group} was first referred {words}: choose another month to split at.")
            return
        if None in sizes:
            container.info(f"Too few children were first referred {words} to show safely: choose another month.")
            return
    summary = replication_summary(replication)
    if summary is None:
        container.info(
            f"No factor was clearly more common in this cohort among the children first referred before {starts}."
        )
        return
    container.markdown(f"**{summary}** Split at the start of {starts}.")
    symbol = setting("symbol")
    findings = replication.filter(pl.col("finding").fill_null(False))

    def number(column: str, fmt: str) -> pl.Series:
        return formatted(findings[column], lambda v: format(v, fmt), null=symbol)

    show_table(
        container,
        findings.select(
            pl.col("label").alias("Factor"),
            number("discovery_cohort_pct", ".0f").alias(f"Before {starts}: cohort %"),
            number("discovery_rest_pct", ".0f").alias("comparison %"),
            formatted(findings["discovery_q"], p_value, null=symbol).alias("q"),
            number("confirmation_cohort_pct", ".0f").alias(f"From {starts}: cohort %"),
            number("confirmation_rest_pct", ".0f").alias("comparison % "),
            formatted(findings["confirmation_p"], p_value, null=symbol).alias("p (one-sided)"),
            pl.col("verdict").fill_null(symbol).alias("Held up?"),
        ),
        "factor_replication",
        filters=cohort_in_file_name(asked),
        question="factor_replication",
        column_config={
            f"Before {starts}: cohort %": brief(
                "Before: cohort %", f"Children first referred before {starts}: cohort %"
            ),
            "comparison %": brief("comparison %", f"Before {starts}: comparison %"),
            f"From {starts}: cohort %": brief("From: cohort %", f"Children first referred from {starts}: cohort %"),
            "comparison % ": brief("comparison %", f"From {starts}: comparison %"),
            "p (one-sided)": brief("p", "p (one-sided Fisher test)"),
        },
    )
    container.caption(
        "Held up: more common in the later cohort too, with a one-sided Fisher p below 0.05. A finding that did "
        "not hold up may still be real (the later group may be small), but treat it as a lead to look into, not a "
        f"pattern. '{symbol}': too few children to show safely."
    )


def render(container) -> None:
    container.title("Patterns")
    engine = opened_engine(container)
    if engine is None:
        return
    container.markdown(
        "Which recorded factors do the children of a cohort share, compared with other children? "
        "Choose the cohort; ChildStat counts every factor recorded for its children up to the extract date. "
        "**These are exploratory findings**: leads to look into with the team, not conclusions."
    )
    teams = run("team_list", container)
    if teams is None or teams.is_empty():
        return
    with container.expander("Cohort", expanded=True, icon=":material/filter_alt:"):
        filters = cohort_builder(st, teams, engine.as_of)
    sizes = run("factor_cohort_sizes", container, **filters)
    if sizes is None:
        return
    sizes = sizes.row(0, named=True)
    container.markdown(
        f"**Cohort: {counted(sizes['cohort_n'], 'child')}. Comparison group: {counted(sizes['rest_n'], 'child')}.**"
    )
    in_period = " with a referral in this period" if "from_date" in filters else ""
    if sizes["cohort_n"] == 0:
        container.warning(f"No child{in_period} matches this cohort. Choose another period or a wider cohort.")
        return
    if sizes["cohort_n"] is None or sizes["rest_n"] is None:
        container.warning("This cohort is too small to show safely. Choose a wider cohort.")
        return
    prevalence = run("factor_prevalence", container, **filters)
    if prevalence is None:
        return
    if prevalence.is_empty():
        container.info("No factors are recorded for the children of this cohort.")
        return
    shown = prevalence
    if sizes["rest_n"] == 0:
        container.warning(
            f"The comparison group has no children{in_period}, so nothing can be compared: choose another group "
            "to compare with, or a longer period."
        )
    else:
        findings = plain_findings(shown.drop_nulls(["lift", "q_value", "cohort_with", "rest_with"]))
        if findings:
            container.success("  \n".join(findings), icon=":material/lightbulb:")
        else:
            container.info("No factor is clearly more common in this cohort than in the comparison group (q < 0.05).")
    container.caption(
        "Exploratory. Percentages carry 95% Wilson intervals. Lift = cohort % ÷ comparison %. p: Fisher's exact "
        "test. q: the false discovery rate (Benjamini–Hochberg) over this cohort's factors: of the factors with q "
        "below 0.05, on average at most 1 in 20 is expected to be chance. It does not allow for the other cohorts you "
        "try (try twenty and some findings will be chance), and q is not the probability that a finding is chance. "
        "Check a finding on later referrals (below) before acting on it. An association is not a cause."
    )
    if sizes["rest_n"]:
        top = container.slider("Factors in the chart", 5, 40, 20, key="top_factors")
        dot_plot(container, shown, top)
    left_out = shown.filter(pl.col("lift").is_null()).height
    if left_out and sizes["rest_n"]:
        container.caption(
            f"{left_out} factors with too few children in a group to show safely are left out of the chart."
        )
    container.markdown("## Every factor")
    prevalence_table(container, shown, filters)
    audit_factor_section(container, filters)
    if sizes["rest_n"]:
        replication_section(container, filters, engine.as_of)
    container.markdown("## Which factors go together in this cohort")
    cooccurrence_heatmap(container, filters, prevalence)
    container.markdown("## Rules of up to three factors")
    rules_table(container, filters)


def number_text(value, fmt: str) -> str:
    """A statistic for a hover text: the setting's symbol when it rests on a hidden count."""
    return setting("symbol") if value is None else format(value, fmt)


if __name__ == "__main__":
    page_main(render)
