"""NEET risk: what predicts a young person becoming NEET, how good the model is and for whom, and who to talk about."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from pages._charts import COUNCIL, MUTED, interval_bars, log_axis, series_style
from pages._charts import show as show_chart
from pages._frame import brief, count_text, formatted, opened_engine, page_main, run, section, show_table
from queries.settings import setting
from queries.wording import count, counted, p_text, p_value

PAGE = {
    "title": "NEET risk",
    "icon": ":material/school:",
    "roles": ["team_manager", "analyst", "admin"],
    "order": 30,
    "needs": ["education", "neet_status"],
    "description": "For managers and analysts: which school and social care factors predict a young person "
    "NEET or not known at 16-17 (odds ratios with 95% intervals), how accurate the model is against the RONI score, "
    "whether it works as well for every group, and the young people in Year 11 to talk about early.",
}

SOURCE_STYLES = {"education": series_style(0), "social care": series_style(1)}
GROUP_WORDS = {"all": "Everyone", "sex": "Sex", "ethnicity_group": "Ethnicity group", "disability": "Disability"}


def metric_values(performance: pl.DataFrame) -> dict:
    return dict(zip(performance["metric"], performance["value"], strict=True))


def about_text(performance: pl.DataFrame, metric: str) -> str:
    row = performance.filter(pl.col("metric") == metric)
    return row["about"][0] if row.height else ""


def years(values: dict, prefix: str) -> str:
    """'2025' or '2023–2025': the outcome years of the training or test young people."""
    first, last = values[f"{prefix}from_year"], values[f"{prefix}to_year"]
    return f"{first:.0f}" if first == last else f"{first:.0f}–{last:.0f}"


def pct(value, digits: int = 0) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


# ---- what predicts it ----------------------------------------------------------------------------------------


def forest_plot(container, shown: pl.DataFrame) -> None:
    plotted = shown.drop_nulls("odds_ratio").sort("odds_ratio")
    if plotted.is_empty():
        container.info("No factor has enough young people to show safely.")
        return

    def build() -> go.Figure:
        figure = go.Figure()
        for source, style in SOURCE_STYLES.items():
            part = plotted.filter(pl.col("source") == source)
            if part.is_empty():
                continue
            figure.add_trace(
                go.Scatter(
                    x=part["odds_ratio"].to_list(),
                    y=part["label"].to_list(),
                    mode="markers",
                    name="School" if source == "education" else "Social care",
                    marker=dict(size=10, color=style["color"], symbol=style["symbol"]),
                    **interval_bars(part["ci_low"].to_list(), part["ci_high"].to_list(), part["odds_ratio"].to_list()),
                    customdata=list(
                        zip(
                            part["ci_low"],
                            part["ci_high"],
                            [p_text(p) for p in part["p_value"]],
                            part["n"],
                            strict=True,
                        )
                    ),
                    hovertemplate="%{y}: odds ratio %{x:.2f} (95% interval %{customdata[0]:.2f}–%{customdata[1]:.2f}), "
                    "%{customdata[2]}, %{customdata[3]} young people<extra></extra>",
                )
            )
        figure.add_vline(x=1, line_dash="dash", line_color=MUTED)
        log_axis(
            figure,
            min(plotted["ci_low"].min(), 1.0),
            max(plotted["ci_high"].max(), 1.0),
            title="Odds ratio of becoming NEET (95% interval; log scale; 1 = no difference)",
        )
        figure.update_yaxes(categoryorder="array", categoryarray=plotted["label"].to_list())
        figure.update_layout(
            height=120 + 26 * plotted.height,
            margin=dict(l=10, r=10, t=30, b=10),
            legend=dict(orientation="h", y=1.05, x=0),
        )
        return figure

    show_chart(container, build, key="neet_forest", cache=(plotted,))


def factors_section(container) -> bool:
    """The risk factors; False when there are too few outcomes to fit a model (run() explains any other failure)."""
    container.markdown("## What predicts becoming NEET")
    factors = run("neet_risk_factors", container)
    if factors is None:
        return True
    if factors.is_empty():
        return False
    shown = factors
    # A finding is q < 0.05: Benjamini-Hochberg across the factors, as on Patterns.
    clear = shown.filter((pl.col("q_value") < 0.05) & (pl.col("odds_ratio") > 1)).sort("odds_ratio", descending=True)
    lowered = shown.filter((pl.col("q_value") < 0.05) & (pl.col("odds_ratio") < 1))
    if clear.height:
        container.success("  \n".join(clear["words"].head(5).to_list()), icon=":material/lightbulb:")
    unclear = shown.filter(pl.col("q_value") >= 0.05)["label"].to_list()
    if unclear:
        container.markdown(
            "**Not clearly linked** once the other factors are taken into account: " + "; ".join(unclear) + "."
        )
    if lowered.height:
        container.markdown("**Linked with lower odds:** " + " ".join(lowered["words"].to_list()))
    forest_plot(container, shown)
    container.caption(
        "Odds ratios from one logistic model, each factor adjusted for all the others. The outcome is the DfE's "
        "headline measure: NEET or activity not known at any status recorded at academic age 16–17 (Year 12 to the "
        "end of February of Year 13). Every factor is as it stood at the end of Year 10, when the list is used: the "
        "Year 10 school record and social care history up to then. A factor is 'clearly linked' when its q-value "
        "(Benjamini–Hochberg across the factors, as on Patterns) is below 0.05; otherwise it may be chance. "
        "An association is not a cause: the model finds who is at risk, not why."
    )
    symbol = setting("symbol")
    table = shown.select(
        pl.col("label").alias("Factor"),
        pl.col("source").alias("From"),
        pl.col("n").cast(pl.String).fill_null(symbol).alias("Young people with it"),
        pl.col("pct_neet_with").round(1).cast(pl.String).fill_null(symbol).alias("% NEET with it"),
        pl.col("pct_neet_without").round(1).cast(pl.String).fill_null(symbol).alias("% NEET without"),
        pl.col("odds_ratio").round(2).cast(pl.String).fill_null(symbol).alias("Odds ratio"),
        pl.format("{}–{}", pl.col("ci_low").round(2), pl.col("ci_high").round(2))
        .fill_null(symbol)
        .alias("95% interval"),
        formatted(shown["p_value"], p_value, null=symbol).alias("p"),
        formatted(shown["q_value"], p_value, null=symbol).alias("q (false discovery)"),
    )
    box = container.expander("Every factor in the model", icon=":material/table:")
    show_table(box, table, "neet_risk_factors", question="neet_risk_factors")
    box.caption(f"'{symbol}': too few young people to show safely, hidden with everything worked out from it.")
    return True


# ---- how good ------------------------------------------------------------------------------------------------


def calibration_plot(container) -> None:
    calibration = run("neet_calibration", container)
    if calibration is None or calibration.is_empty():
        return
    shown = calibration.drop_nulls(["observed", "predicted"])

    def build() -> go.Figure:
        top = max(shown["predicted"].max() or 0.1, shown["observed_high"].max() or 0.1) * 1.1
        figure = go.Figure(
            [
                go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(dash="dash", color=MUTED), name="Perfect"),
                go.Scatter(
                    x=shown["predicted"].to_list(),
                    y=shown["observed"].to_list(),
                    mode="markers+lines",
                    marker=dict(size=9, color=COUNCIL),
                    name="Model (test years)",
                    **interval_bars(
                        shown["observed_low"].to_list(),
                        shown["observed_high"].to_list(),
                        shown["observed"].to_list(),
                        horizontal=False,
                    ),
                    customdata=shown.select("n", "bin").rows(),
                    hovertemplate="Tenth %{customdata[1]}: predicted %{x:.0%}, observed %{y:.0%} "
                    "of %{customdata[0]} young people<extra></extra>",
                ),
            ]
        )
        figure.update_layout(
            height=360,
            margin=dict(l=10, r=10, t=40, b=10),
            title="Calibration: predicted risk against the share who became NEET",
            xaxis=dict(title="Predicted probability (mean in each tenth of risk)", tickformat=".0%", range=[0, top]),
            yaxis=dict(title="Became NEET (95% interval)", tickformat=".0%", range=[0, top]),
            legend=dict(orientation="h", y=-0.2, x=0),
        )
        return figure

    show_chart(container, build, key="neet_calibration", cache=(shown,))


TOOL_LINES = {
    "model": ("The model", series_style(0)),
    "roni": ("RONI 4+", series_style(1)),
    "everyone": ("Everyone", series_style(2)),
}


def decision_curve_plot(container) -> None:
    curve = run("neet_decision_curve", container)
    if curve is None or curve.is_empty():
        return

    def build() -> go.Figure:
        figure = go.Figure(
            [
                go.Scatter(
                    x=part["threshold"].to_list(),
                    y=(100 * part["net_benefit"]).to_list(),
                    mode="lines+markers",
                    name=TOOL_LINES[tool][0],
                    line=dict(color=TOOL_LINES[tool][1]["color"], dash=TOOL_LINES[tool][1]["dash"]),
                    marker=dict(symbol=TOOL_LINES[tool][1]["symbol"]),
                    hovertemplate=f"{TOOL_LINES[tool][0]}: at %{{x:.0%}}, net benefit %{{y:.1f}} per 100<extra></extra>",
                )
                for tool in TOOL_LINES
                if not (part := curve.filter(tool=tool).sort("threshold")).is_empty()
            ]
        )
        figure.add_hline(y=0, line=dict(color=MUTED, width=1), annotation_text="No one", annotation_position="top left")
        figure.update_layout(
            height=340,
            margin=dict(l=10, r=10, t=40, b=10),
            title="Decision curve: net benefit on the test years",
            xaxis=dict(title="Risk at which a conversation is worth having (threshold)", tickformat=".0%"),
            yaxis=dict(title="Net benefit per 100 young people"),
            legend=dict(orientation="h", y=-0.25, x=0),
        )
        return figure

    show_chart(container, build, key="neet_decision_curve", cache=(curve,))
    container.caption(
        "Read across from the risk at which you would think a conversation worth it: the highest line is the tool of "
        "most use there, and a line below 'No one' (0) does more harm, in wasted conversations, than good."
    )


def performance_section(container) -> dict:
    container.markdown("## How good is the model, and is it better than RONI?")
    performance = run("neet_model_performance", container)
    if performance is None:
        return {}
    values = metric_values(performance)
    if not values.get("model_fitted"):
        container.info(about_text(performance, "model_fitted"), icon=":material/info:")
        return values
    container.markdown(
        f"Trained on young people whose outcome was complete in {years(values, 'train_')} "
        f"({counted(int(values['train_n']), 'young person')}), tested on later young people, complete in "
        f"{years(values, 'test_')} ({count_text(int(values['n']))}, of whom {count_text(int(values['positives']))} "
        "were NEET or not known). The RONI score is judged on the same young people, from the same Year 10 records."
    )
    columns = container.columns(4)
    columns[0].metric(
        "Model AUC",
        f"{values['auc']:.2f}",
        help=f"95% interval {values['auc_ci_low']:.2f}–{values['auc_ci_high']:.2f}. " + about_text(performance, "auc"),
    )
    columns[1].metric(
        "RONI AUC",
        f"{values['roni_auc']:.2f}",
        help=f"95% interval {values['roni_auc_ci_low']:.2f}–{values['roni_auc_ci_high']:.2f}.",
    )
    columns[2].metric("Model Brier score", f"{values['brier']:.3f}", help=about_text(performance, "brier"))
    columns[3].metric(
        "RONI Brier score", f"{values['roni_brier']:.3f}", help="RONI turned into a probability: the NEET rate "
        "at each score in the training years."
    )  # fmt: skip
    better = values["auc_difference_ci_low"] > 0
    verdict = (
        "The model ranks young people better than RONI"
        if better
        else "The model is not clearly better than RONI at ranking young people"
    )
    container.markdown(
        f"**{verdict}**: AUC {values['auc']:.2f} (95% interval {values['auc_ci_low']:.2f}–{values['auc_ci_high']:.2f})"
        f" against {values['roni_auc']:.2f} ({values['roni_auc_ci_low']:.2f}–{values['roni_auc_ci_high']:.2f}); "
        f"difference {values['auc_difference']:+.2f} ({values['auc_difference_ci_low']:+.2f} to "
        f"{values['auc_difference_ci_high']:+.2f}, DeLong {p_text(values['auc_difference_p'])}). An AUC of 0.5 is "
        "guessing and 1 is perfect. "
        f"Against NEET alone ({pct(values['neet_only_rate'])} of the test years, not counting 'not known'), the "
        f"model's AUC is {values['neet_only_auc']:.2f} ({values['neet_only_auc_ci_low']:.2f}–"
        f"{values['neet_only_auc_ci_high']:.2f}) and RONI's {values['roni_neet_only_auc']:.2f}."
    )
    rows = []
    for label, prefix in (("Model", ""), ("RONI 4+", "roni_")):
        rows.append(
            {
                "Tool": label,
                "Flagged": count_text(int(values[f"{prefix}flagged"])),
                "Share flagged": pct(values[f"{prefix}flag_share"]),
                "Of those who became NEET, flagged (TPR)": f"{pct(values[f'{prefix}tpr'])} "
                f"({pct(values[f'{prefix}tpr_low'])}–{pct(values[f'{prefix}tpr_high'])})",
                "Of those who did not, flagged (FPR)": f"{pct(values[f'{prefix}fpr'])} "
                f"({pct(values[f'{prefix}fpr_low'])}–{pct(values[f'{prefix}fpr_high'])})",
                "Of those flagged, became NEET (PPV)": f"{pct(values[f'{prefix}ppv'])} "
                f"({pct(values[f'{prefix}ppv_low'])}–{pct(values[f'{prefix}ppv_high'])})",
            }
        )
    container.markdown(
        f"At the threshold (the model flags a predicted risk of {pct(values['threshold'], 1)} or more: the share "
        "RONI 4+ flagged in the training years), on the test years, with 95% intervals:"
    )
    show_table(container, pl.DataFrame(rows), "neet_model_vs_roni", question="neet_model_performance")
    best = max(("the model", values["net_benefit"]), ("RONI 4+", values["roni_net_benefit"]),
               ("talking to everyone", values["all_net_benefit"]), key=lambda pair: pair[1])  # fmt: skip
    container.markdown(
        f"**Net benefit** at this threshold (Vickers & Elkin 2006: young people who became NEET or not known found, "
        f"less those flagged who did not, weighted by the threshold's odds; per 100 young people): the model "
        f"{100 * values['net_benefit']:.1f}, RONI 4+ {100 * values['roni_net_benefit']:.1f}, talking to everyone "
        f"{100 * values['all_net_benefit']:.1f}, no one 0. At this threshold {best[0]} is of most use."
    )
    calibration_plot(container)
    container.caption(
        f"On the test years: calibration slope {values['calibration_slope']:.2f} (1 is ideal; below 1 means the "
        f"risks are too spread out, a sign of overfitting) and calibration intercept "
        f"{values['calibration_intercept']:+.2f} (0 is ideal; above 0 means risks are too low on average). The risk % "
        f"comes from a ridge (penalised) model, recalibrated on "
        f"{about_text(performance, 'recalibration_intercept').split('fitted on ', 1)[-1]}. "
        f"{values['events_per_parameter']:.0f} NEET or not known young people per model coefficient in training "
        "(10 or more is the usual rule of thumb)."
    )
    decision_curve_plot(container)
    box = container.expander("Every figure", icon=":material/table:")
    show_table(
        box,
        performance.with_columns(pl.col("value").round(4)),
        "neet_model_performance",
        question="neet_model_performance",
    )
    return values


def fairness_section(container) -> None:
    container.markdown("## Does it work as well for everyone?")
    fairness = run("neet_fairness", container)
    if fairness is None or fairness.is_empty():
        return
    shown = fairness
    score = container.radio(
        "Tool", ["model", "roni"], format_func=lambda s: "Model" if s == "model" else "RONI 4+", horizontal=True,
        key="neet_fairness_score",
    )  # fmt: skip
    symbol = setting("symbol")

    def rate(name: str) -> pl.Expr:
        return pl.format(
            "{}% ({}–{})",
            (100 * pl.col(name)).round(0).cast(pl.Int64),
            (100 * pl.col(f"{name}_low")).round(0).cast(pl.Int64),
            (100 * pl.col(f"{name}_high")).round(0).cast(pl.Int64),
        ).fill_null(symbol)

    def share(name: str) -> pl.Expr:
        return pl.format("{}%", (100 * pl.col(name)).round(0).cast(pl.Int64)).fill_null(symbol)

    table = shown.filter(pl.col("score") == score).select(
        pl.col("group_type").replace_strict(GROUP_WORDS, default=pl.col("group_type")).alias("By"),
        pl.col("group").alias("Group"),
        pl.col("n").cast(pl.String).fill_null(symbol).alias("Young people"),
        rate("tpr").alias("TPR: of those who became NEET, flagged"),
        rate("fpr").alias("FPR: of those who did not, flagged"),
        rate("ppv").alias("PPV: of those flagged, became NEET"),
        share("predicted").alias("Predicted risk (mean)"),
        share("observed").alias("Became NEET or not known"),
        pl.format("{} points", (100 * pl.col("observed_minus_predicted")).round(1))
        .fill_null(symbol)
        .alias("Observed − predicted"),
    )
    show_table(
        container,
        table,
        "neet_fairness",
        key=f"neet_fairness_{score}",
        filters={"tool": score},
        question="neet_fairness",
        column_config={
            "Young people": brief("People", "Young people in the group (test years)"),
            "TPR: of those who became NEET, flagged": brief("TPR", "Of those who became NEET, flagged (95% CI)"),
            "FPR: of those who did not, flagged": brief("FPR", "Of those who did not, flagged (95% CI)"),
            "PPV: of those flagged, became NEET": brief("PPV", "Of those flagged, became NEET (95% CI)"),
            "Predicted risk (mean)": brief("Predicted", "Predicted risk (mean)"),
            "Became NEET or not known": brief("Observed", "Became NEET or not known"),
            "Observed − predicted": brief("Gap", "Observed − predicted, percentage points"),
        },
    )
    container.caption(
        "On the test years at the same threshold, with 95% Wilson intervals. Groups are not in the model. A fair tool "
        "has similar rates in every group: where intervals do not overlap, look at why before relying on it. It is "
        "also calibrated in every group: the mean predicted risk is close to the share who became NEET or not known "
        "(a gap of several points means the risk % runs too high or too low for that group; RONI's risk is the "
        "training years' NEET rate at each score). "
        f"'{symbol}': a group too small to show safely (hidden whole, with the next smallest group's size so it cannot be "
        "worked back), or a rate resting on too few young people."
    )


# ---- who to talk about ---------------------------------------------------------------------------------------


def risk_list_section(container, values: dict) -> None:
    container.markdown("## Young people to talk about early")
    if values.get("model_fitted"):
        accuracy = (
            f"On young people with later outcomes it had an AUC of {values['auc']:.2f} "
            f"(95% interval {values['auc_ci_low']:.2f}–{values['auc_ci_high']:.2f}; RONI {values['roni_auc']:.2f}): of "
            f"those it flagged, {pct(values['ppv'])} became NEET, and it missed {pct(1 - values['tpr'])} of those who "
            "did."
        )
    else:
        accuracy = "There are too few known outcomes to fit or test a model here, so only the RONI score is shown."
    container.warning(
        "**What this list is.** Young people past the end of Year 10 who have not reached Year 12, ordered by the "
        "risk a logistic model gives them from their Year 10 school record and social care history up to the end of "
        "Year 10 (the factors above), the moment the model was trained and tested for. "
        f"{accuracy} Many young people on this list will not become NEET, and some not on it will. It is a prompt "
        "for a conversation with the young person, their school and their worker, not a decision about them: use "
        "what you know about the young person first.",
        icon=":material/record_voice_over:",
    )
    container.caption(
        "Child-level operational data for managers and analysts (not small-number suppressed): do not share outside "
        "the service."
    )
    teams = run("team_list", container)
    names = dict(zip(teams["team_id"], teams["team_name"], strict=True)) if teams is not None else {}
    team = container.selectbox(
        "Team holding the latest referral",
        [None, *names],
        format_func=lambda t: "All teams" if t is None else names.get(t, t),
        key="neet_team",
    )
    risk_list = run("neet_risk_list", container, team_id=team)
    if risk_list is None:
        return
    if risk_list.is_empty():
        container.info("No young person between the end of Year 10 and Year 12 has a school record here.")
        return
    flagged = risk_list.filter(pl.col("flagged").fill_null(False)).height
    container.markdown(
        f"**{counted(risk_list.height, 'young person')}**; {count(flagged)} at or above the threshold."
        if values.get("model_fitted")
        else f"**{counted(risk_list.height, 'young person')}**, highest RONI score first."
    )
    table = risk_list.select(
        pl.col("child_id").alias("Child"),
        (100 * pl.col("risk")).round(0).alias("Risk %"),
        pl.col("flagged").alias("Above threshold"),
        pl.col("roni_score").alias("RONI"),
        pl.col("top_factors").alias("Main risk factors (odds ratio)"),
        pl.col("roni_factors").alias("RONI points"),
        pl.col("age").alias("Age"),
        pl.col("team_id").alias("Team"),
        pl.col("worker_id").alias("Worker"),
        pl.col("open_case").alias("Open case"),
        pl.col("attendance_pct").alias("Attendance %"),
        pl.col("school_year").alias("School year"),
    )
    show_table(
        container,
        table,
        "neet_risk_list",
        filters={"team": team},
        question="neet_risk_list",
        column_config={
            "Risk %": st.column_config.ProgressColumn("Risk %", min_value=0, max_value=100, format="%d%%"),
            "Above threshold": brief("Flag", "At or above the model's threshold"),
            "Main risk factors (odds ratio)": brief(
                "Main risk factors", "The model's clear risk factors this young person has (odds ratio)", width=230
            ),
            "RONI points": brief("RONI points", "Which RONI criteria scored, and their points", width=160),
            "Age": None,  # the school year says as much: age in the CSV
            "Team": None if team else "Team",  # with a team chosen above, the same on every row: in the CSV
            "Open case": brief("Open", "An open case on the extract date"),
            "Attendance %": brief("Att. %", "Attendance %"),
            "School year": brief("Year", "School year"),
        },
    )
    container.caption(
        "RONI points (Oxfordshire criteria): attendance below 90% 1, below 85% 2; EAL 1; SEN support 1; EHC plan 2; "
        "suspended 1 (permanently excluded 2, standing in for 'exclusions most of the absence'); alternative "
        "provision 1; looked after 2; young parent 2; free school meals 2; young carer 2; youth offending team 2. "
        "Custody (2) is not in the extract and is left out. 4+ = substantial support, 2–3 additional support."
    )


def render(container) -> None:
    container.title("NEET risk")
    engine = opened_engine(container)
    if engine is None:
        return
    container.markdown(
        "Which young people are likely to be NEET (not in education, employment or training) or not known at 16–17, so the "
        "team can work with them earlier? This page fits an interpretable model to the young people whose outcome "
        "is known, shows how accurate it is and for whom, compares it with the RONI score councils already use, and "
        "lists the young people in Year 11 to talk about. Models built from council data often predict poorly (What "
        "Works for Children's Social Care, 2020), so read the accuracy before the list, and leave decisions to people."
    )
    if not factors_section(container):
        container.info(
            "There are too few young people with a known outcome and a school record to fit the model "
            "(at least 20 NEET and 20 not NEET are needed).",
            icon=":material/info:",
        )
    values = performance_section(container)
    if values.get("model_fitted"):
        section(container, "neet_fairness", fairness_section)  # its tool choice redraws it alone
    section(container, "neet_risk_list", risk_list_section, values)  # so does its team choice


if __name__ == "__main__":
    page_main(render)
