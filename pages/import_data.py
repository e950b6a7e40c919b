"""Import: turn a council's Annex A workbook, CIN census XML, SSDA903 CSVs or SSD export into an extract.

Uploads larger than `max_upload_mb` are refused. The rest are written to a new private
temporary folder (childstat-import-*) and imported there by a child process limited in memory
and time (ingest.isolated), never into the loaded extract. The page keeps only the run reports,
the validation summary and the extract as zip bytes (in the session); the temporary folder,
raw uploads and produced extract alike, is deleted as soon as the import ends, whatever
happened. Each upload and each download of the result is recorded in the audit log.

Before the page says "imported", the result is opened as the app would open it (schemas.extract and
the engine's structural check): an import that made nothing the app can use says so, and offers
nothing to download or open. "Open this extract now" (analysts and administrators: the page's roles,
who see every child anyway) keeps a copy in a private folder under the user's data folder and
switches this session, and only this session, to it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import streamlit as st

from pages._frame import OPENED_KEY, audit, current_scope, loaded, page_main, plain_table
from queries.settings import setting

log = logging.getLogger("childstat")

PAGE = {
    "title": "Import",
    "icon": ":material/upload_file:",
    "roles": ["analyst", "admin"],
    "order": 80,
    "description": "Turn the files your case-management system already produces (the Ofsted Annex A "
    "workbook, the CIN census XML, the SSDA903 CSVs, a Standard Safeguarding Dataset export) into a ChildStat "
    "extract: see what was read and what was not, then download it or open it.",
}

RESULT_KEY = "import_result"
REQUESTED_KEY = "import_requested"
OPEN_NOW_KEY = "import_open_now"


MB = 1024 * 1024
ZIP_NAME = "childstat-extract.zip"
ORDER = {"cin-census": 0, "annex-a": 1, "ssda903": 2, "ssd": 3}
FOLDER_FORMATS = ("ssda903", "ssd")  # formats whose files are imported together, as one folder


def import_files(uploads: list[tuple[str, str, bytes]], private: bool = True, la_name: str | None = None) -> dict:
    """Import (format, file name, bytes) uploads into a new extract; returns what to show.

    CIN census files are imported first (oldest name first), then Annex A, then SSDA903 (all its
    CSVs together), then the SSD (all its tables together), each merging into the same extract,
    in a child process limited in memory and time. The result holds the reports, the validation
    and the extract as zip bytes; the temporary folder (uploads and extract) is always deleted
    before this returns.
    """
    from ingest import RunReport
    from ingest.isolated import run_limited

    limit_mb = setting("max_upload_mb")
    too_big, accepted = [], []
    for kind, name, data in sorted(uploads, key=lambda u: (ORDER.get(u[0], 9), u[1])):
        name = safe_name(name)
        if len(data) > limit_mb * MB:
            report = RunReport(kind, name)
            report.error = (
                f"{name} is {len(data) / MB:,.1f} MB, more than the {limit_mb:g} MB an upload may be "
                "(setting max_upload_mb). It was not read."
            )
            too_big.append(report.to_dict())
        else:
            accepted.append((kind, name, data))
    result = {
        "reports": [],
        "validation": None,
        "validation_problem": None,
        "refused": None,
        "zip": None,
        "unusable": None,
    }
    if accepted:
        work = Path(tempfile.mkdtemp(prefix="childstat-import-"))  # private (0700) to this user
        try:
            out = work / "extract"
            sources: list[tuple[str, Path]] = []
            for kind, name, data in accepted:
                folder = work / "uploads" / kind
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
                if kind not in FOLDER_FORMATS:
                    sources.append((kind, folder / name))
            for kind in FOLDER_FORMATS:
                if any(k == kind for k, _, _ in accepted):
                    sources.append((kind, work / "uploads" / kind))
            result |= run_limited(sources, out, work, private=private, la_name=la_name or None)
            if not result["refused"] and any(r["error"] is None for r in result["reports"]):
                result["unusable"] = unusable_reason(out)
                if result["unusable"] is None:
                    result["zip"] = zip_folder(out)
        finally:
            shutil.rmtree(work, ignore_errors=True)  # the raw uploads never outlive the import
    result["reports"] = result["reports"] + too_big
    return result


def unusable_reason(folder: Path) -> str | None:
    """Why the app could not open this extract (opened as the app opens one); None when it can."""
    from queries.engine import Engine
    from queries.settings import SettingsError
    from schemas.extract import ExtractError, open_extract

    try:
        engine = Engine(open_extract(folder))
    except (ExtractError, SettingsError) as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - said plainly, never a traceback
        log.error("imported extract could not be opened: %s", type(exc).__name__)
        return "the app could not open it"
    try:
        usable = [name for name, state in engine.tables.items() if state.usable]
        if not usable:
            return "none of its tables can be read"
        if usable == ["children"]:
            return (
                "it holds only the children themselves (no referrals, plans or care episodes), so no page has figures"
            )
        return None
    finally:
        engine.close()


def imports_folder() -> Path:
    """Where opened imports are kept: a private folder under the user's data folder (as the workspace is)."""
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "childstat" / "imports"


def keep_extract(zip_bytes: bytes) -> Path:
    """The import's zip unpacked into a new private folder of its own (0700, its files 0600), which is returned."""
    from schemas.cache import private_folder

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = private_folder(imports_folder() / f"import-{stamp}")
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        for member in zf.infolist():
            name = safe_name(member.filename)
            if member.is_dir() or name.startswith("."):
                continue
            descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(zf.read(member))
    return folder


def may_open(scope) -> bool:
    """Who may switch their session to an import: those who see every child (the page's own roles)."""
    return scope is not None and scope.sees_everything


def open_now(zip_bytes: bytes) -> None:
    """The "Open this extract now" button: keep a copy, check it opens, and switch this session to it."""
    if not may_open(current_scope()):
        return
    folder = keep_extract(zip_bytes)
    problem = unusable_reason(folder)
    if problem:
        shutil.rmtree(folder, ignore_errors=True)
        st.session_state[OPEN_NOW_KEY] = problem
        return
    st.session_state[OPENED_KEY] = str(folder)
    st.session_state[OPEN_NOW_KEY] = True
    audit("extract_opened", file=folder.name)


def back_to_configured() -> None:
    st.session_state.pop(OPENED_KEY, None)
    audit("extract_opened", file="configured")


def safe_name(name: str) -> str:
    """The file name alone, never a path (a browser sends what it likes)."""
    base = Path(str(name).replace("\\", "/")).name.replace("\0", "")
    return base if base not in ("", ".", "..") else "upload"


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                zf.write(path, f"extract/{path.name}")
    return buffer.getvalue()


def counts_frame(report: dict) -> pl.DataFrame:
    rows = [
        {
            "table": name,
            "read": c["read"],
            "mapped": c["mapped"],
            "dropped": c["dropped"],
            "why dropped": "; ".join(f"{n}: {reason}" for reason, n in c["drop_reasons"].items()),
        }
        for name, c in report["tables"].items()
    ]
    schema = {"table": pl.String, "read": pl.Int64, "mapped": pl.Int64, "dropped": pl.Int64, "why dropped": pl.String}
    return pl.DataFrame(rows, schema=schema)


def problems_frame(report: dict) -> pl.DataFrame:
    schema = {k: pl.String for k in ("where", "table", "column", "value", "issue")}
    return pl.DataFrame([{k: p[k] for k in schema} for p in report["problems"]], schema=schema)


def show_report(container, report: dict, usable: bool = True) -> None:
    title = f"{report['source_name']} ({report['source_format']})"
    if report["error"]:
        container.error(f"**{title}**: not imported. {report['error']}", icon=":material/error:")
        return
    problems = len(report["problems"]) + report["problems_not_listed"]
    words = f"{problems} value(s) not understood" if problems else "every value understood"
    if usable:
        container.success(f"**{title}**: imported; {words}.", icon=":material/check_circle:")
    else:
        container.warning(f"**{title}**: read ({words}), but it made no extract the app can open.")
    with container.expander(f"What was read from {report['source_name']}", expanded=bool(problems)):
        plain_table(st, counts_frame(report))
        if report["problems"]:
            st.markdown("**Values not understood, and rows dropped** (where they were, never whose):")
            plain_table(st, problems_frame(report))
        if report["left_out"]:
            st.caption("Not in this source, so not written: " + ", ".join(report["left_out"]))
        for line in report["assumed"]:
            st.caption(f"Filled by rule: {line}")
        for line in report["notes"]:
            st.caption(f"Note: {line}")


def show_validation(container, result: dict) -> None:
    validation = result.get("validation")
    if validation is None:
        if result.get("validation_problem"):
            container.warning(f"The result could not be checked: {result['validation_problem']}")
        return
    errors = [f for f in validation["failures"] if f["severity"] == "error"]
    if validation["is_valid"]:
        container.success("The result passes every check of the ChildStat data format.", icon=":material/verified:")
    else:
        container.warning(
            f"The result has {len(errors)} failed check(s). Most are the source's own (dates out of order, "
            "codes it does not know); a core table the source cannot fill is named as missing.",
            icon=":material/warning:",
        )
    statuses = pl.DataFrame(
        [{"table": t, "status": s} for t, s in validation["table_status"].items()],
        schema={"table": pl.String, "status": pl.String},
    )
    failures = pl.DataFrame(
        [{"table": f["table"], "column": f["column"], "check": f["check"], "severity": f["severity"], "rows": f["count"]}
         for f in validation["failures"]],
        schema={"table": pl.String, "column": pl.String, "check": pl.String, "severity": pl.String, "rows": pl.Int64},
    )  # fmt: skip
    with container.expander("Validation of the result", expanded=not validation["is_valid"]):
        plain_table(st, statuses)
        if failures.height:
            plain_table(st, failures)


def show_result(container, result: dict) -> None:
    container.header("Result")
    if result.get("refused"):
        container.error(result["refused"], icon=":material/block:")
    unusable = result.get("unusable")
    for report in result["reports"]:
        show_report(container, report, usable=unusable is None)
    if unusable:
        container.error(
            f"No usable extract was made: {unusable}. There is nothing to download or open; the sources above "
            "say what was read. docs/import.md lists what each format must hold.",
            icon=":material/error:",
        )
    if not result.get("zip"):
        return
    show_validation(container, result)
    if may_open(current_scope()):
        container.button(
            "Open this extract now",
            icon=":material/open_in_new:",
            key="import_open",
            type="primary",
            on_click=open_now,
            args=(result["zip"],),
            help="Keeps a copy in your ChildStat data folder and switches this session (only yours) to it.",
        )
    container.download_button(
        "Download the extract (zip)",
        result["zip"],
        file_name=ZIP_NAME,
        mime="application/zip",
        icon=":material/download:",
        key="import_download",
        on_click=audit,
        args=("download",),
        kwargs={"file": ZIP_NAME, "size": len(result["zip"]), "format": "extract"},
    )
    with container.expander("Keep it and open it later instead"):
        st.markdown(
            "Until you open it, nothing is kept on this machine: the uploads and the extract made from them were "
            "deleted when the import ended, and only the download remains (until you leave the page). Unzip it "
            "where you keep extracts and start the app on it (the app never writes into an extract it has loaded):"
        )
        st.code(
            f"unzip {ZIP_NAME} -d my_import && CHILDSTAT_DATA=my_import/extract streamlit run app.py",
            language="bash",
        )


def show_opened(container) -> bool:
    """Where this session's extract comes from, when it opened an import, and the way back."""
    outcome = st.session_state.pop(OPEN_NOW_KEY, None)
    if isinstance(outcome, str):
        container.error(f"The extract could not be opened: {outcome}.", icon=":material/error:")
    opened = st.session_state.get(OPENED_KEY)
    if opened:
        container.success(
            f"This session is reading the imported extract {Path(opened).name} (kept in {Path(opened).parent}). "
            "Every page now shows its figures.",
            icon=":material/check_circle:",
        )
        container.button("Back to the usual extract", key="import_back", on_click=back_to_configured)
    return outcome is True


def render(container) -> None:
    container.title("Import")
    container.markdown(
        "Bring the files your case-management system already produces, and ChildStat turns them into an "
        "extract: the **Annex A** workbook (Lists 3–8), the **CIN census** XML (one or more years), the "
        "**SSDA903** CSV files and a **Standard Safeguarding Dataset** (SSD) export (its `ssd_*` tables, as CSV "
        "or Parquet). Nothing is sent anywhere; the files are read on this machine in a new folder "
        f"that is deleted afterwards. Each file may be up to {setting('max_upload_mb'):g} MB. "
        "See `docs/import.md` for what each format fills and what is refused."
    )
    if show_opened(container):
        st.switch_page("pages/home.py")
    state = loaded()
    if state.engine is None:
        container.error(f"No extract is loaded: {state.problem}. You can still import files here.")
    # The browser refuses a larger file before sending it; import_files refuses it again on the server.
    most = {"max_upload_size": max(1, int(setting("max_upload_mb")))}
    with container.container(border=True):
        annex = st.file_uploader("Annex A workbook (.xlsx)", type=["xlsx"], key="import_annex_a", **most)
        cin = st.file_uploader(
            "CIN census XML (one file per year)", type=["xml"], accept_multiple_files=True, key="import_cin", **most
        )
        ssda = st.file_uploader(
            "SSDA903 CSV files (header, episodes, …)",
            type=["csv"],
            accept_multiple_files=True,
            key="import_903",
            **most,
        )
        ssd = st.file_uploader(
            "SSD export: the ssd_* tables (ssd_person, ssd_cin_episodes, …), CSV or Parquet, one file per table",
            type=["csv", "parquet"],
            accept_multiple_files=True,
            key="import_ssd",
            **most,
        )
        private = st.checkbox(
            "Privacy: birth dates to the 1st of the month, postcodes to the district, no names",
            value=True,
            help="Keep this on for an extract that will be shared. Child IDs stay the council's own.",
        )
        la_name = st.text_input("Council name (optional, shown at the top of every page)", key="import_la_name")
        # A callback, not the button's return value: it survives the rerun that routes a page through app.py.
        st.button(
            "Import",
            icon=":material/upload_file:",
            key="import_submit",
            type="primary",
            on_click=lambda: st.session_state.update({REQUESTED_KEY: True}),
        )
    if st.session_state.pop(REQUESTED_KEY, False):
        uploads = [("annex-a", annex.name, annex.getvalue())] if annex else []
        uploads += [("cin-census", f.name, f.getvalue()) for f in cin or []]
        uploads += [("ssda903", f.name, f.getvalue()) for f in ssda or []]
        uploads += [("ssd", f.name, f.getvalue()) for f in ssd or []]
        if not uploads:
            container.info("Choose at least one file to import.")
        else:
            for kind, name, data in uploads:
                audit("import_upload", file=safe_name(name), size=len(data), format=kind)
            try:
                with container.spinner("Importing…"):
                    st.session_state[RESULT_KEY] = import_files(uploads, private, la_name)
            except Exception as exc:  # noqa: BLE001 - a plain message, never a traceback
                log.error("import page failed: %s", type(exc).__name__)
                container.error("The import could not be completed. Nothing was changed in the loaded extract.")
    result = st.session_state.get(RESULT_KEY)
    if result:
        show_result(container, result)


if __name__ == "__main__":
    page_main(render)
