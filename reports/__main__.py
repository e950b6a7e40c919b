"""Command line: `python -m reports board|supervision [--worker W] --out FILE.pdf [--data DIR]`.

Without `--as`, the report has exact figures (as `python -m queries run` does: for someone who already
has the extract's files). `--as ROLE [--user-team T] [--user-worker W]` makes it exactly as a signed-in
user of that role gets it from the page: the same access, forced parameters and protected counts.
`--html FILE` also keeps the HTML that was printed. Exit status: 0 written, 2 a bad argument, extract or
a worker the reader may not see, 1 the PDF could not be made. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from queries.__main__ import cli_scope
from queries.access import ROLES
from queries.engine import Engine, QueryError
from queries.settings import SettingsError
from reports.board import PERIODS
from reports.build import KINDS, build_report, engine_asker, may_have, report_about
from reports.pdf import ReportError, pdf_bytes
from reports.supervision import NotInScope
from schemas.extract import ExtractError, open_extract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=list(KINDS))
    parser.add_argument("--out", required=True, help="the PDF to write")
    parser.add_argument("--worker", help="supervision: the worker_id the pack is for")
    parser.add_argument("--months", type=int, choices=list(PERIODS), default=12, help="board: the period, in months")
    parser.add_argument("--data", help="extract folder (default: $CHILDSTAT_DATA, else sample_data/)")
    parser.add_argument("--html", help="also write the HTML that was printed here")
    parser.add_argument("--as", dest="as_role", choices=list(ROLES), help="make it as a user of this role gets it")
    parser.add_argument("--user-team", help="with --as team_manager or social_worker: the user's team_id")
    parser.add_argument("--user-worker", help="with --as social_worker: the user's worker_id")
    args = parser.parse_args(argv)
    if args.kind == "supervision" and not args.worker:
        parser.error("supervision needs --worker")
    try:
        scope = cli_scope(args)
        if scope is not None and not may_have(args.kind, scope.role):
            raise NotInScope(f"a {ROLES[scope.role].lower()} does not get the {KINDS[args.kind][0].lower()}")
        engine = Engine(open_extract(args.data))
        try:
            about = report_about(engine, scope.role if scope else "admin", args.kind)
            report = build_report(args.kind, engine_asker(engine, scope), about, args.worker, args.months)
        finally:
            engine.close()
        page = report.html()
        if args.html:
            Path(args.html).write_text(page, encoding="utf-8")
        Path(args.out).write_bytes(pdf_bytes(page))
    except (QueryError, ExtractError, SettingsError, NotInScope) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ReportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
