"""Command line: `python -m ingest {annex-a,cin-census,ssda903,ssd} SOURCE --out DIR`.

Prints the run report, then the validation summary of the extract written. Exit status:
0 imported and the extract is valid, 1 imported but validation found errors (the report and
the validator say which; usually the source's own), 2 nothing imported (the source or --out
could not be used). Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from ingest import FORMATS, run_import

EXIT_VALID, EXIT_INVALID, EXIT_FAILED = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Import Annex A, CIN census, SSDA903 or SSD files into a ChildStat extract.",
    )
    parser.add_argument("format", choices=list(FORMATS), help="; ".join(f"{k}: {v}" for k, v in FORMATS.items()))
    parser.add_argument(
        "source",
        help="the file (Annex A .xlsx, CIN census .xml), or the folder of SSDA903 CSVs or of SSD tables (ssd_*.csv, ssd_*.parquet)",
    )
    parser.add_argument("--out", required=True, help="extract folder: new, or an existing extract to merge into")
    parser.add_argument(
        "--no-privacy",
        dest="private",
        action="store_false",
        help="keep exact birth dates, full postcodes and worker names (only for use inside the council)",
    )
    parser.add_argument("--la-name", help="the council's name, for manifest.json")
    parser.add_argument("--la-code", help="the council's LA code, for manifest.json (the CIN census holds it)")
    parser.add_argument("--format", dest="fmt", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--no-validate", dest="validate", action="store_false", help="skip validating the extract")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run_import(args.format, args.source, args.out, args.private, args.la_name, args.la_code)
    except MemoryError:
        print(f"error: importing {args.source} needed more memory than this machine could give", file=sys.stderr)
        return EXIT_FAILED
    if not report.ok:
        if args.fmt == "json":
            print(json.dumps(report.to_dict(), indent=1))
        print(f"error: {report.error}", file=sys.stderr)
        return EXIT_FAILED
    validation = None
    if args.validate:
        try:
            from schemas.validate import validate_path

            validation = validate_path(args.out)
        except Exception as exc:  # noqa: BLE001 - the import is done; say validation could not run
            print(f"warning: the extract could not be validated ({type(exc).__name__})", file=sys.stderr)
    if args.fmt == "json":
        out = report.to_dict()
        out["validation"] = validation.to_dict() if validation else None
        print(json.dumps(out, indent=1, default=str))
    else:
        print(report.to_text())
        if validation is not None:
            print("\n" + validation.to_text())
    return EXIT_VALID if validation is None or validation.is_valid else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
