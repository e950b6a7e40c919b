"""Command line: `python -m schemas validate [DIR] [--data DIR] [--format text|json] [--cache]`.

Validates afresh every time unless --cache is given (then the report the app saved for this
version of the extract is reused, or saved for next time).

Exit status: 0 valid (warnings allowed), 1 invalid, 2 unusable input (not a folder, a missing
folder, no Parquet tables, a bad manifest, or no table readable at all). For status 2 a one-line
message goes to stderr; a report (when there is one) goes to stdout. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from schemas.extract import ExtractError, data_dir, open_extract

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m schemas`."""
    parser = argparse.ArgumentParser(prog="python -m schemas", description="ChildStat extract tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check an extract against the data contract")
    validate.add_argument("dir", nargs="?", help="extract folder (default: $CHILDSTAT_DATA, else sample_data/)")
    validate.add_argument("--data", dest="data", help="extract folder (same as DIR)")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument(
        "--cache",
        action="store_true",
        help="reuse the report saved for this version of the extract (as the app does), else save it",
    )
    return parser


def run_validate(folder: str | None, fmt: str, cache: bool = False) -> int:
    """Validate the extract in `folder`, print the report and return the exit status."""
    path = data_dir(folder)
    try:
        extract = open_extract(path)
    except ExtractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    from schemas.validate import validate_extract  # imported late: Pandera is slow to import

    report = validate_extract(extract, cache=cache)
    print(json.dumps(report.to_dict(), indent=2) if fmt == "json" else report.to_text())
    if not any(s in ("ok", "warnings", "errors") for s in report.table_status.values()):
        print(f"error: no table in {path} could be read as Parquet", file=sys.stderr)
        return EXIT_UNUSABLE
    return EXIT_VALID if report.is_valid else EXIT_INVALID


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.dir and args.data and args.dir != args.data:
        print("error: give the extract folder once (DIR or --data DIR), not two different ones", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        return run_validate(args.dir or args.data, args.format, args.cache)
    except Exception as exc:  # noqa: BLE001 - the contract promises a message, never a traceback
        print(f"error: validation failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
