"""What every page shares: the loaded extract, its validation report, and running questions.

One Engine (one DuckDB connection) per extract per process, held by
st.cache_resource and keyed by the extract's file signature, so a refreshed
extract is picked up. Each question runs on its own cursor. Errors become
plain messages on the page; a user never sees a traceback.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from pages import _audit, _hosting
from pages._export import safe_csv
from queries.access import LOCAL_ADMIN, Scope, scope_from_user
from queries.disclosure import protection_line
from queries.engine import Engine, NotAllowed, QueryError
from queries.registry import get_query
from queries.settings import SettingsError, setting
from schemas.extract import Extract, ExtractError, data_dir, open_extract

log = logging.getLogger("childstat")

# Set while app.py's router is running a page in this thread (one script run per thread).
_router = threading.local()


def routed(run_page: Callable[[], None], meta: dict | None = None, others: list[tuple[str, dict]] = ()) -> None:
    """Run the selected page with the router marked active (called by app.py only).

    Every page opens with one line saying what its reader sees: exact figures or protected ones
    (the engine decides; queries.disclosure words it for the role). A page whose PAGE["needs"]
    tables this extract lacks (a 903-only extract has no referrals) says so once, names the
    pages that do work with this extract (`others`: (path, PAGE) the user may open), and stops.
    """
    _router.active = True
    _router.said = set()  # the absent optional tables already mentioned on this page view
    try:
        scope = current_scope()
        if scope is not None:
            st.caption(f":material/shield: {protection_line(scope.role)}")
        if meta and not page_is_served(meta):
            explain_unserved(meta, others)
            return
        run_page()
    finally:
        _router.active = False


def missing_needs(meta: dict) -> str | None:
    """Why this extract cannot serve a page (its PAGE["needs"] tables), in words; None when it can."""
    state = loaded()
    if state.engine is None or not meta.get("needs"):
        return None
    return state.engine.unavailable_reason(meta["needs"])


def absent_tables(name: str) -> list[str]:
    """The tables a question needs that this extract simply does not have (not broken ones: those
    are faults, and `run` shows them). Lets a page leave out, with one line, what its source never holds."""
    state = loaded()
    if state.engine is None:
        return []
    return [t for t in get_query(name).tables if state.engine.tables[t].status in ("missing", "missing_required")]


def page_is_served(meta: dict) -> bool:
    return missing_needs(meta) is None


def explain_unserved(meta: dict, others: list[tuple[str, dict]]) -> None:
    """One plain message in place of a page this extract cannot serve, with the pages it can."""
    st.title(meta["title"])
    extract = loaded().engine.extract
    made_from = ", ".join(extract.manifest.get("imported", []))
    st.info(
        f"This page needs what this extract does not have: {missing_needs(meta)}."
        + (f" The extract was imported from: {made_from}." if made_from else "")
        + " The other pages show what this extract does hold.",
        icon=":material/info:",
    )
    served = [(path, other) for path, other in others if other is not meta and page_is_served(other)]
    if served:
        st.markdown("**Pages with figures from this extract**")
        for path, other in served:
            st.page_link(path, label=other["title"], icon=other.get("icon"))


def page_main(render: Callable) -> None:
    """A page file's entry point: render inside the shared frame, always through app.py.

    Streamlit starts in its legacy `pages/` mode until app.py's st.navigation has run once in
    the process, so the first deep link after a restart (e.g. /caseload) would run the page
    file bare, without the frame. Then this sets up the navigation and reruns through app.py.
    """
    if getattr(_router, "active", False):
        render(st.container())
        return
    from app import navigation_pages

    st.navigation(navigation_pages(), expanded=True)
    st.rerun()


@dataclass
class Loaded:
    """The extract as the app sees it: an engine, a validation report, or why there is none."""

    engine: Engine | None
    report: object | None  # schemas.validate.ValidationReport
    problem: str | None  # why the extract cannot be used at all


@st.cache_resource(show_spinner="Opening the extract…", max_entries=4)
def _load(path: str, signature: str, _progress: Callable[[str], None] | None = None) -> Loaded:
    from schemas.validate import validate_extract

    try:
        extract = open_extract(path)
        engine = Engine(extract, progress=_progress)
    except (ExtractError, SettingsError) as exc:
        return Loaded(None, None, str(exc))
    try:
        report = validate_extract(extract, cache=True)
    except Exception as exc:  # noqa: BLE001 - a validator fault must not take the app down
        log.error("validation failed: %s", type(exc).__name__)
        report = None
    return Loaded(engine, report, None)


def quality_badge(state: Loaded) -> tuple[str, str]:
    """A short label and icon for the sidebar."""
    report = state.report
    if report is None:
        return "Data quality: not checked", ":material/help:"
    errors = sum(f.count for f in report.failures if f.severity == "error")
    warnings = sum(f.count for f in report.failures if f.severity == "warning")
    if errors:
        return f"Data quality: {errors:,} problems", ":material/error:"
    if warnings:
        return f"Data quality: valid, {warnings:,} warnings", ":material/warning:"
    return "Data quality: valid", ":material/verified:"


def _signature(path) -> str:
    try:
        return open_extract(path).signature()
    except ExtractError as exc:
        return f"unusable:{exc}"


def begin_run() -> None:
    """Start of a script run (app.py): the extract is looked up at most once until end_run()."""
    _router.memo = None
    _router.remember = True


def end_run() -> None:
    _router.memo = None
    _router.remember = False


def _current() -> tuple[Loaded, str]:
    """The loaded extract and its file signature, found once per script run.

    Finding them lists the extract folder and stats every file; a page asks for them once per
    question, so within a run the first answer is kept. The next run (the next page load) looks again,
    so a refreshed extract is still noticed on the next page load.
    """
    memo = getattr(_router, "memo", None)
    if memo is not None:
        return memo
    path = str(data_dir())
    signature = _signature(path)
    bar = st.empty()  # a progress bar while a large extract's database is built (once per version of its files)
    memo = (_load(path, signature, _progress=_progress_bar(bar)), signature)
    bar.empty()
    if getattr(_router, "remember", False):
        _router.memo = memo
    return memo


def _progress_bar(place) -> Callable[[str], None]:
    """A callback for Engine(progress=...): each message ("… (3 of 40)") moves a progress bar.

    A build step's message comes twice, when it starts and when it is done with its time ("… referrals
    done in 2.1 s (3 of 40)"): the text shows every step's time as the bar moves.
    """
    done = [0.0]

    def show(message: str) -> None:
        step = re.search(r"\((\d+) of (\d+)\)", message)
        if step:
            done[0] = int(step.group(1)) / (int(step.group(2)) + 1)  # then the database is written to disk
        place.progress(done[0], text=message)

    return show


def loaded() -> Loaded:
    return _current()[0]


def opened_engine(container) -> Engine | None:
    """The extract's engine, or None after saying on the page why the extract cannot be opened."""
    state = loaded()
    if state.engine is None:
        container.error(f"ChildStat cannot open the extract: {state.problem}.")
    return state.engine


def extract() -> Extract | None:
    engine = loaded().engine
    return engine.extract if engine else None


def hosting() -> _hosting.Hosting:
    """The mode and the hosted configuration, or why it is broken (pages/_hosting.py)."""
    return _hosting.hosting()


def hosted() -> bool:
    """A hosted instance: mode "hosted" (or any configuration error, which is never local mode)."""
    config = hosting()
    return config.hosted or config.broken


def auth_providers() -> list[str]:
    """Named providers under [auth] ([auth.microsoft], [auth.google]…); empty for a single unnamed one."""
    return list(hosting().providers)


def role_map() -> dict:
    """The role map by lower-case email (empty unless hosted and valid)."""
    return dict(hosting().users)


@dataclass(frozen=True)
class Access:
    """Who is asking: a scope, or why there is none (a REFUSALS key, "signed_out" or "broken_config")."""

    scope: Scope | None
    refusal: str | None = None
    email: str | None = None
    issuer: str | None = None


def current_access(config: _hosting.Hosting | None = None) -> Access:
    config = config or hosting()
    if config.broken:
        return Access(None, "broken_config")
    if not config.hosted:
        return Access(LOCAL_ADMIN)
    claims = st.user.to_dict()
    if claims.get("is_logged_in") is not True:
        return Access(None, "signed_out")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    issuer = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    refusal = _hosting.claim_refusal(claims, config)
    if refusal:
        return Access(None, refusal, email, issuer)
    scope = scope_from_user(email, config.users)
    if scope is None:
        return Access(None, _hosting.role_refusal(email, config.users), email, issuer)
    return Access(scope, None, email, issuer)


def current_scope() -> Scope | None:
    """Who is asking: LOCAL_ADMIN in local mode; a signed-in user's role; None when signed out, refused,
    or when the hosted configuration is broken."""
    return current_access().scope


PAGE_KEY = "_childstat_audit_page"  # the page last opened in this session, for events that do not say
AUDIT_FAILED_KEY = "_childstat_audit_failed"  # a callback (a download) could not be recorded
CALLBACK_EVENTS = {"download"}  # recorded from a widget callback, where raising cannot stop the page


def scope_fields(scope: Scope) -> dict:
    return {"role": scope.role, "team_id": scope.team_id, "worker_id": scope.worker_id}


def audit(event: str, **fields) -> None:
    """Record one event as the current user. Hosted: raises _audit.AuditWriteError if it cannot be
    written (app.py stops the page), except from a download's callback, which marks the session so
    the next run stops instead."""
    config = hosting()
    access = current_access(config)
    if access.scope:
        user, role = access.scope.user, access.scope.role
    else:
        user = access.email or ("unknown" if access.refusal == "broken_config" else "signed out")
        role = "none"
    if isinstance(fields.get("scope"), Scope):
        fields["scope"] = scope_fields(fields["scope"])
    if event == "page_view":
        st.session_state[PAGE_KEY] = fields.get("page")
    fields = {"page": st.session_state.get(PAGE_KEY)} | fields
    try:
        _audit.record(
            event, user=user, role=role, hosted=config.hosted or config.broken, key=config.audit_key, **fields
        )
    except _audit.AuditWriteError:
        if event not in CALLBACK_EVENTS:
            raise
        st.session_state[AUDIT_FAILED_KEY] = True


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_run(signature: str, scope: tuple, name: str, params: tuple) -> pl.DataFrame:
    return loaded().engine.run(name, scope=Scope(*scope), **dict(params))


def run(name: str, container=None, **params) -> pl.DataFrame | None:
    """A named question's answer, or None after telling the user plainly why not."""
    place = container or st
    state, signature = _current()
    if state.engine is None:
        place.error(f"No data: {state.problem}")
        return None
    scope = current_scope()
    if scope is None:
        place.error("Sign in to see this.")
        return None
    audit(
        "query", query=name, filters=params, scope=scope, enforced=enforced_filters(state.engine, name, params, scope)
    )
    try:
        scope_key = (scope.role, scope.user, scope.worker_id, scope.team_id)
        result = _cached_run(signature, scope_key, name, tuple(sorted(params.items())))
        missing = state.engine.unavailable_reason(get_query(name).optional_tables)
        said = getattr(_router, "said", None)
        if missing and (said is None or missing not in said):  # once per page view, not under every figure
            place.caption(f"Not included because {missing}.")
            if said is not None:
                said.add(missing)
        return result
    except QueryError as exc:
        if isinstance(exc, NotAllowed):
            audit("refused", query=name, filters=params, scope=scope, reason=str(exc))
        place.warning(str(exc), icon=":material/block:")
    except Exception as exc:  # noqa: BLE001 - shown as a plain message, never a traceback
        # Only the type: messages from the database can quote values from the extract.
        log.error("query %s failed: %s", name, type(exc).__name__)
        place.error(
            f"Something went wrong working out this part of the page ({name}). "
            "The rest of the page is unaffected; the Data quality page may say why."
        )
    return None


def enforced_filters(engine: Engine, name: str, params: dict, scope: Scope) -> dict | None:
    """Every parameter the question really runs with for this user (the audit log records these, not
    only what was asked for); None when it will be refused."""
    try:
        query = engine.query(name)
        return engine.resolve_params(query, engine.enforced_params(query, params, scope))
    except QueryError:
        return None


def count_text(value) -> str:
    """A count for display: one the engine protected (hid) shows as the setting's symbol."""
    if value is None:
        return setting("symbol")
    return f"{value:,}"


def share_text(numerator, denominator, value=None) -> str:
    """A percentage for display, hidden when it rests on a count the engine hid."""
    if numerator is None or denominator in (None, 0) or (value is None and numerator is None):
        return "–" if denominator == 0 else setting("symbol")
    share = value if value is not None else numerator / denominator
    return f"{share:.0%}"


def formatted(values: pl.Series, fmt: Callable[[Any], str], null: str | None = None) -> pl.Series:
    """Each value as text by a Python function (`null` for a missing value), computed in this thread.

    Pages never use polars' `map_elements` for this: it runs the Python function on polars' worker
    threads, which must take the interpreter lock, while another session's thread can hold that lock
    waiting for those same workers (converting a table to pandas did): under concurrent sessions the
    whole server deadlocked (benchmarks/load.py, 20 sessions; tests/test_concurrency.py).
    """
    return pl.Series(values.name, [null if v is None else fmt(v) for v in values.to_list()], dtype=pl.String)


def table_data(frame: pl.DataFrame):
    """A table as Streamlit takes it: Arrow, so Streamlit neither converts it to pandas nor back.

    Besides being cheaper, this keeps polars' pandas conversion (which waits for polars' worker
    threads while holding the interpreter lock) out of the server; see `formatted`. A frame holding
    Python objects (which Arrow cannot) is given as it is.
    """
    if any(dtype == pl.Object for dtype in frame.dtypes):
        return frame
    return frame.to_arrow()


def show_table(
    container, frame: pl.DataFrame, file_stem: str, column_config: dict | None = None, key: str | None = None, **kwargs
) -> None:
    """A table on the page with a CSV download of exactly what is shown (formula-like text neutralised)."""
    container.dataframe(table_data(frame), hide_index=True, width="stretch", column_config=column_config, **kwargs)
    container.download_button(
        "Download CSV",
        safe_csv(frame),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"download_{key or file_stem}",
        icon=":material/download:",
        on_click=audit,
        args=("download",),
        kwargs={"file": _audit.strip_child_from_file_name(f"{file_stem}.csv"), "rows": frame.height},
    )


PRINT_CSS = """
<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDownloadButton"], [data-testid="stDecoration"] { display: none !important; }
  .main .block-container, [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: 100% !important; }
  [data-testid="stExpander"] details { break-inside: avoid; }
}
</style>
"""


def printable(container) -> None:
    """Hide the navigation, toolbar and download buttons when the page is printed."""
    container.html(PRINT_CSS)
