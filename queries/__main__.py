"""Command line: `python -m queries list` and `python -m queries run NAME ...`.

Without `--as`, `run` gives the exact answer: it is for an analyst who already has the extract's
files. `--as ROLE [--user-team T] [--user-worker W]` gives exactly what a signed-in user of that
role sees on a page: the same access check, forced parameters (own team and worker, the extract's
as_of, whole months), filtered rows and protected counts.

Exit status: 0 answered, 2 a bad name, parameter or extract, 1 a table the
question needs is invalid or missing, or the role may not see it. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import polars as pl

from queries.access import ROLE_NEEDS, ROLES, Scope
from queries.engine import Engine, NotAllowed, QueryError, choose_storage
from queries.registry import all_queries
from queries.settings import SettingsError
from schemas.extract import ExtractError, open_extract


def describe_params(query) -> str:
    parts = []
    for p in query.params:
        default = "" if p.default == "required" else f"={p.default}"
        parts.append(f"{p.name}:{p.type}{default}")
    return " ".join(parts) or "-"


def list_queries() -> int:
    for query in all_queries().values():
        print(f"{query.name}\t{query.title}\t{describe_params(query)}")
    return 0


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QueryError(f"--param takes KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    return params


def format_frame(frame: pl.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(frame.to_dicts(), default=str, indent=1)
    if fmt == "table":
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
            return str(frame)
    return frame.write_csv()


def cli_scope(args) -> Scope | None:
    """The user `--as` speaks for, or None for the exact answer; a role without its IDs has no access."""
    if args.as_role is None:
        return None
    scope = Scope(args.as_role, f"command line as {args.as_role}", args.user_worker, args.user_team)
    missing = [
        f"--user-{need.removesuffix('_id')}" for need in ROLE_NEEDS.get(scope.role, ()) if not getattr(scope, need)
    ]
    if missing:
        raise NotAllowed(f"a {ROLES[scope.role].lower()} needs {' and '.join(missing)}: without them, no access")
    return scope


def cli_storage(extract) -> str | None:
    """One question per process: a council-sized extract is read in place rather than copied into memory first.

    Copying every table and computing every summary table is most of a second on the shipped sample;
    one question reads only what it needs (the same answers: tests/test_performance_cache.py). A large
    extract still uses its cached database, and $CHILDSTAT_STORAGE still decides when set.
    """
    if os.environ.get("CHILDSTAT_STORAGE"):
        return None
    return "views" if choose_storage(extract, None, None) == "memory" else None


def run_query(args) -> int:
    params = parse_params(args.param or [])
    scope = cli_scope(args)
    extract = open_extract(args.data)
    engine = Engine(extract, storage=cli_storage(extract))
    try:
        frame = engine.run(args.name, scope=scope, **params)
    finally:
        engine.close()
    sys.stdout.write(format_frame(frame, args.format).rstrip("\n") + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="name, title and parameters of every question")
    run = commands.add_parser("run", help="answer one question and print the result")
    run.add_argument("name")
    run.add_argument("--data", help="extract folder (default: $CHILDSTAT_DATA, else sample_data/)")
    run.add_argument("--param", action="append", metavar="KEY=VALUE")
    run.add_argument("--format", choices=["csv", "json", "table"], default="csv")
    run.add_argument(
        "--as", dest="as_role", choices=list(ROLES), help="answer as a user of this role sees it on a page"
    )
    run.add_argument("--user-team", help="with --as team_manager or social_worker: the user's team_id")
    run.add_argument("--user-worker", help="with --as social_worker: the user's worker_id")
    args = parser.parse_args(argv)
    try:
        return list_queries() if args.command == "list" else run_query(args)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ExtractError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line for the user, never a traceback
        print(f"error: the question could not be answered ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
