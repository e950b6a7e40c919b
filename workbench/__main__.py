"""Command line: `python -m workbench audit ...` (case-file audits) and `python -m workbench hypothesis ...`.

    audit create NAME --cohort team_id=T07 [--cohort k=v ...] --size 40 --seed 1
                 [--strata age_band] [--question "pd|Parent has a personality disorder|yes_no" ...]
                 [--compare team_id=T02 ... [--compare-size N]] [--by EMAIL]
    audit questions NAME [--question SPEC ...]      the audit's questions; --question adds more
    audit list                                      every audit in the workspace
    audit sample NAME [--format csv]                child_id, stratum, sample_order (and sample_group)
    audit record NAME CHILD_ID pd=yes [code=answer ...] --by EMAIL
    audit answers NAME [--history]                  current answers (or every answer) with who and when
    audit progress NAME                             answered so far, per question
    audit estimate NAME [--format csv|json|table] [--as ROLE] [--means]
    audit factor NAME --question pd --answer yes --code PD --label TEXT [--by EMAIL]
                                                    make an answer a local factor (source case_file_audit)
    audit factors [--cohort k=v ...] [--compare-team T]
                                                    the audit factors; with a cohort, their shares as in Patterns

    hypothesis create NAME --statement TEXT --cohort k=v [...] --compare k=v [...]
                      --outcome rereferral|factor|closed|service|neet|audit [--factor CODE]
                      [--within-days N] [--service ID] [--audit NAME --question CODE --answer A]
                      --discovery FROM..TO --confirmation FROM..TO [--by EMAIL]
    hypothesis list                                 every hypothesis, its status and latest effects
    hypothesis run [NAME]                           every open hypothesis (or NAME) on the extract
    hypothesis show NAME [--format table|json]      the hypothesis, its latest results and their history
    hypothesis status NAME open|supported|not_supported|retired [--note TEXT]

Each takes --workspace (else $CHILDSTAT_WORKSPACE, settings [workspace], the user's data folder) and
--data (the extract; only `audit create` and `hypothesis run` read it). Without --as, estimates are exact: the command line is
for an analyst; with --as ROLE they are protected as that role sees them on a page.

Exit status: 0 done, 2 a bad name, argument, extract or workspace, 1 anything else (a role that may not
see it included). Errors are one line on stderr, and never name a child.
"""

from __future__ import annotations

import argparse
import json
import sys

import polars as pl

from queries.access import ROLES, Scope
from queries.engine import QueryError
from queries.settings import SettingsError
from queries.wording import count, counted, p_text
from schemas.extract import ExtractError, open_extract
from workbench.audit_estimates import estimate_table, mean_table, protected_estimates, protected_means
from workbench.audit_factors import AuditFactorError, factor_prevalence, list_factors, make_factor
from workbench.audits import (
    STRATIFY_BY,
    AuditError,
    add_questions,
    answer_history,
    audit_questions,
    audit_sample,
    create_audit,
    current_answers,
    list_audits,
    parse_cohort,
    progress,
    record_answers,
)
from workbench.hypotheses import (
    STATUSES,
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
from workbench.hypotheses import parse_cohort as parse_hypothesis_cohort
from workbench.hypothesis_outcomes import OUTCOMES
from workbench.questions import QuestionError, parse_question
from workbench.workspace import WorkspaceError, open_workspace


def format_frame(frame: pl.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(frame.to_dicts(), default=str, indent=1)
    if fmt == "table":
        with pl.Config(
            tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True, fmt_str_lengths=80
        ):
            return str(frame)
    return frame.write_csv()


def emit(frame: pl.DataFrame, fmt: str) -> int:
    sys.stdout.write(format_frame(frame, fmt).rstrip("\n") + "\n")
    return 0


def parse_answers(pairs: list[str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for pair in pairs:
        code, sep, value = pair.partition("=")
        if not sep or not code.strip():
            raise AuditError(f"answers are CODE=ANSWER, got {pair.split('=')[0][:40]!r}")
        given[code.strip()] = value
    return given


def create(args, workspace) -> int:
    question_list = [parse_question(spec) for spec in args.question or []]
    cohort = parse_cohort(args.cohort or [])
    comparison = parse_cohort(args.compare, "--compare") if args.compare else None
    if args.compare_size is not None and not comparison:
        raise AuditError("--compare-size needs a comparison cohort (--compare KEY=VALUE)")
    from queries.engine import Engine

    engine = Engine(open_extract(args.data))
    try:
        drawn = create_audit(
            workspace, engine, args.name, cohort, args.size, args.seed, question_list,
            stratify_by=args.strata, comparison=comparison, comparison_size=args.compare_size, created_by=args.by,
        )  # fmt: skip
    finally:
        engine.close()
    for group, summary in drawn.items():
        print(
            f"{group}: {count(summary['sample_size'])} of {counted(summary['cohort_size'], 'child')} drawn "
            f"({summary['strata']} strat{'um' if summary['strata'] == 1 else 'a'})"
        )
    return 0


def questions(args, workspace) -> int:
    if args.question:
        add_questions(workspace, args.name, [parse_question(spec) for spec in args.question])
    rows = [(q.code, q.label, q.kind, ", ".join(q.choices)) for _, q in audit_questions(workspace, args.name)]
    schema = {"code": pl.String, "label": pl.String, "kind": pl.String, "choices": pl.String}
    return emit(pl.DataFrame(rows, schema=schema, orient="row"), args.format)


def record(args, workspace) -> int:
    stored = record_answers(workspace, args.name, args.child_id, parse_answers(args.answers), args.by)
    print(f"recorded {len(stored)} answer{'s' if len(stored) != 1 else ''}")
    return 0


def factor(args, workspace) -> int:
    answer = make_factor(workspace, args.name, args.question, args.answer, args.code, args.label, args.by)
    print(f"factor {args.code.strip()}: children of audit {args.name!r} whose answer to {args.question} is {answer!r}")
    return 0


def factors(args, workspace) -> int:
    if not args.cohort:
        return emit(list_factors(workspace), args.format)
    filters = parse_cohort(args.cohort) | ({"compare_team_id": args.compare_team} if args.compare_team else {})
    from queries.engine import Engine

    engine = Engine(open_extract(args.data))
    try:
        return emit(factor_prevalence(workspace, engine, filters), args.format)
    finally:
        engine.close()


def estimate(args, workspace) -> int:
    scope = None
    if args.as_role is not None:
        scope = Scope(args.as_role, f"command line as {args.as_role}", args.user_worker, args.user_team)
    if args.means:
        return emit(protected_means(mean_table(workspace, args.name), scope), args.format)
    return emit(protected_estimates(estimate_table(workspace, args.name), scope), args.format)


def hypothesis_create(args, workspace) -> int:
    create_hypothesis(
        workspace, args.name, args.statement,
        parse_hypothesis_cohort(args.cohort or [], "--cohort"), parse_hypothesis_cohort(args.compare or [], "--compare"),
        args.outcome, parse_period(args.discovery, "--discovery"), parse_period(args.confirmation, "--confirmation"),
        factor_code=args.factor, created_by=args.by,
        outcome_options={"days": args.within_days, "service_id": args.service, "audit": args.audit,
                         "question": args.question, "answer": args.answer},
    )  # fmt: skip
    print(f"hypothesis {' '.join(args.name.split())!r} written down, open; its periods are fixed")
    return 0


def hypothesis_run(args, workspace) -> int:
    from queries.engine import Engine

    engine = Engine(open_extract(args.data))
    try:
        done = run_hypotheses(workspace, engine, args.name)
    finally:
        engine.close()
    if not done:
        print("no open hypotheses to run")
    for result in done:
        if result["not_run"]:
            print(f"{result['name']}, {result['period']}: not run: {result['not_run']}")
        else:
            print(f"{result['name']}, {result['period']}: {describe_result(result)}")
    return 0


def describe_result(result: dict) -> str:
    counts = (
        f"{result['with_outcome']} of {result['children']} against "
        f"{result['comparison_with_outcome']} of {result['comparison_children']}"
    )
    if result["effect"] is None:
        return f"{counts}: no effect (a cohort has no children in the period)"
    return (
        f"{counts}: difference {100 * result['effect']:+.1f} points "
        f"(95% CI {100 * result['ci_low']:+.1f} to {100 * result['ci_high']:+.1f}), {p_text(result['p'])}"
    )


def hypothesis_show(args, workspace) -> int:
    details = hypothesis_details(workspace, args.name)
    history = result_history(workspace, args.name)
    if args.format == "json":
        shown = details | {"latest": latest_results(history).to_dicts(), "history": history.to_dicts()}
        sys.stdout.write(json.dumps(shown, default=str, indent=1) + "\n")
        return 0
    for key, value in details.items():
        print(f"{key}: {json.dumps(value, sort_keys=True) if isinstance(value, dict) else value}")
    print("\nlatest results:")
    emit(latest_results(history), "table")
    print("\nhistory:")
    return emit(history, "table")


def hypothesis(args, workspace) -> int:
    if args.action == "create":
        return hypothesis_create(args, workspace)
    if args.action == "list":
        return emit(list_hypotheses(workspace), args.format)
    if args.action == "run":
        return hypothesis_run(args, workspace)
    if args.action == "show":
        return hypothesis_show(args, workspace)
    set_status(workspace, args.name, args.status, args.note)
    print(f"hypothesis {' '.join(args.name.split())!r} is {args.status}")
    return 0


def run(args) -> int:
    workspace = open_workspace(args.workspace)
    try:
        if args.thing == "hypothesis":
            return hypothesis(args, workspace)
        if args.action == "create":
            return create(args, workspace)
        if args.action == "list":
            return emit(list_audits(workspace), args.format)
        if args.action == "questions":
            return questions(args, workspace)
        if args.action == "sample":
            return emit(audit_sample(workspace, args.name, args.sample_group), args.format)
        if args.action == "record":
            return record(args, workspace)
        if args.action == "answers":
            answers = answer_history if args.history else current_answers
            return emit(answers(workspace, args.name), args.format)
        if args.action == "progress":
            return emit(progress(workspace, args.name), args.format)
        if args.action in ("factor", "factors"):
            return (factor if args.action == "factor" else factors)(args, workspace)
        return estimate(args, workspace)
    finally:
        workspace.dispose()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m workbench", description=__doc__.splitlines()[0])
    things = top.add_subparsers(dest="thing", required=True)
    audit = things.add_parser("audit", help="case-file audits").add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str, named: bool = True, formats: bool = True):
        sub = audit.add_parser(name, help=help_text)
        if named:
            sub.add_argument("name", help="the audit's name")
        sub.add_argument("--workspace", help="workspace: a SQLite file or a postgresql:// URL")
        sub.add_argument("--data", help="extract folder (default: $CHILDSTAT_DATA, else sample_data/); read by create")
        if formats:
            sub.add_argument("--format", choices=["csv", "json", "table"], default="csv")
        return sub

    create_args = action("create", "draw a new audit's sample from a cohort of the extract", formats=False)
    create_args.add_argument("--cohort", action="append", metavar="KEY=VALUE", help="a cohort filter (repeatable)")
    create_args.add_argument("--size", type=int, required=True, help="children to sample")
    create_args.add_argument("--seed", type=int, required=True, help="the draw's seed: the same seed, the same sample")
    create_args.add_argument("--strata", choices=STRATIFY_BY, help="stratify the sample (proportional allocation)")
    create_args.add_argument("--question", action="append", metavar="CODE|LABEL|KIND[|CHOICES]")
    create_args.add_argument("--compare", action="append", metavar="KEY=VALUE", help="a comparison cohort's filter")
    create_args.add_argument("--compare-size", type=int, help="the comparison sample's size (default: --size)")
    create_args.add_argument("--by", default="command line", help="who creates the audit")
    action("list", "every audit in the workspace", named=False)
    questions_args = action("questions", "list the audit's questions, or add some with --question")
    questions_args.add_argument("--question", action="append", metavar="CODE|LABEL|KIND[|CHOICES]")
    sample_args = action("sample", "the sampled children in reading order")
    sample_args.add_argument("--sample", dest="sample_group", choices=["cohort", "comparison"])
    record_args = action("record", "record one child's answers", formats=False)
    record_args.add_argument("child_id")
    record_args.add_argument("answers", nargs="+", metavar="CODE=ANSWER")
    record_args.add_argument("--by", required=True, metavar="EMAIL", help="who read the file")
    answers_args = action("answers", "each child's current answers, with who entered them and when")
    answers_args.add_argument("--history", action="store_true", help="every answer ever recorded, oldest first")
    action("progress", "how many children have been answered, per question")
    estimate_args = action("estimate", "estimates for the whole cohort, with 95% intervals")
    estimate_args.add_argument("--means", action="store_true", help="the number questions' means, not the answers")
    estimate_args.add_argument("--as", dest="as_role", choices=list(ROLES), help="as a user of this role sees them")
    estimate_args.add_argument("--user-team", help="with --as team_manager or social_worker: the user's team_id")
    estimate_args.add_argument("--user-worker", help="with --as social_worker: the user's worker_id")
    factor_args = action("factor", "make an answer to the audit's question a local factor for Patterns", formats=False)
    factor_args.add_argument("--question", required=True, metavar="CODE", help="the audit's question")
    factor_args.add_argument("--answer", required=True, help="the answer that is the factor (e.g. yes)")
    factor_args.add_argument("--code", required=True, help="the factor's local code (e.g. PD)")
    factor_args.add_argument("--label", required=True, help="the factor in words")
    factor_args.add_argument("--by", default="command line", help="who makes the factor")
    factors_args = action("factors", "the audit factors; with --cohort, their shares in it as Patterns shows", False)
    factors_args.add_argument("--cohort", action="append", metavar="KEY=VALUE", help="a Patterns cohort filter")
    factors_args.add_argument("--compare-team", help="compare with this team's children (default: every other child)")
    hypothesis_parser(things)
    return top


def hypothesis_parser(things) -> None:
    actions = things.add_parser("hypothesis", help="the register of hypotheses")
    actions = actions.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--workspace", help="workspace: a SQLite file or a postgresql:// URL")
        sub.add_argument("--data", help="extract folder (default: $CHILDSTAT_DATA, else sample_data/); read by run")
        return sub

    create_args = action("create", "write a hypothesis down with its test and its two periods")
    create_args.add_argument("name", help="the hypothesis's name")
    create_args.add_argument("--statement", required=True, help="the hypothesis in words")
    create_args.add_argument("--cohort", action="append", metavar="KEY=VALUE", help="a cohort filter (repeatable)")
    create_args.add_argument("--compare", action="append", metavar="KEY=VALUE", help="the comparison cohort's filter")
    create_args.add_argument("--outcome", required=True, choices=OUTCOMES)
    create_args.add_argument("--factor", metavar="CODE", help="with --outcome factor: the factor's code")
    create_args.add_argument("--within-days", type=int, help="with --outcome closed: closed within N days (182)")
    create_args.add_argument("--service", metavar="ID", help="with --outcome service: the service (default: any)")
    create_args.add_argument("--audit", metavar="NAME", help="with --outcome audit: the case-file audit")
    create_args.add_argument("--question", metavar="CODE", help="with --outcome audit: the audit's question")
    create_args.add_argument("--answer", help="with --outcome audit: the answer counted (e.g. yes)")
    create_args.add_argument("--discovery", required=True, metavar="FROM..TO", help="the discovery period")
    create_args.add_argument("--confirmation", required=True, metavar="FROM..TO", help="the confirmation period")
    create_args.add_argument("--by", default="command line", help="who writes the hypothesis")
    list_args = action("list", "every hypothesis, its status and latest effects")
    list_args.add_argument("--format", choices=["csv", "json", "table"], default="csv")
    run_args = action("run", "run every open hypothesis (or the one named) on the extract, keeping every result")
    run_args.add_argument("name", nargs="?", help="only this hypothesis")
    show_args = action("show", "the hypothesis, its latest results and their history")
    show_args.add_argument("name", help="the hypothesis's name")
    show_args.add_argument("--format", choices=["table", "json"], default="table")
    status_args = action("status", "the analyst's verdict and note")
    status_args.add_argument("name", help="the hypothesis's name")
    status_args.add_argument("status", choices=STATUSES)
    status_args.add_argument("--note", help="the analyst's note")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (
        AuditError,
        AuditFactorError,
        HypothesisError,
        QuestionError,
        WorkspaceError,
        ExtractError,
        SettingsError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line for the user, never a traceback
        print(f"error: the workbench could not do that ({type(exc).__name__})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
