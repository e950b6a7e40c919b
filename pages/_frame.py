"""What every page shares: the loaded extract, its validation report, and running questions.

One Engine (one DuckDB connection) per extract per process, held by
st.cache_resource and keyed by the extract's file signature, so a refreshed
extract is picked up. Each question runs on its own cursor. Errors become
plain messages on the page; a user never sees a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from pages import _audit, _export, _hosting, _print
from queries import wording
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
    _router.meta = meta  # the page's PAGE, for what a download says it is
    _router.said = set()  # the absent optional tables already mentioned on this page view
    try:
        st.html(FRAME_CSS + PRINT_CSS)  # every page prints without the sidebar, toolbar or buttons
        st.sidebar.html(_print.PRINT_SCRIPT, unsafe_allow_javascript=True)  # a print button; charts fit the paper
        scope = current_scope()
        if scope is not None:
            st.caption(f":material/shield: {protection_line(scope.role)}")
        if meta and not page_is_served(meta):
            explain_unserved(meta, others)
            return
        run_page()
    finally:
        _router.active = False


def section(container, key: str, draw: Callable[..., None], *args) -> None:
    """Draw `draw(place, *args)` into `container` as a part of the page that reruns alone when one of its
    own widgets changes (an st.fragment named `key`), instead of the whole page.

    The page's full run draws it as part of the page. A rerun of the section alone runs no router:
    so it logs no second page view, and checks again, itself, what the router checks on every run (the
    hosted configuration, who is signed in, that their role may open this page, that the audit log
    can be written); anything amiss reruns the whole app, whose router then says what is wrong.
    """
    meta, page = getattr(_router, "meta", None), getattr(_router, "page", None)
    with container:
        st.fragment(_section_run, key=key)(draw, args, meta, page, key)


def _section_run(draw: Callable[..., None], args: tuple, meta: dict | None, page: str | None, key: str) -> None:
    if getattr(_router, "active", False):  # the page's own run: the router has done its checks
        draw(st.container(), *args)
        return
    from pages._audit import AuditWriteError

    begin_run()
    note_page(f"{page or '-'}#{key}")
    outcome = "done"
    try:
        if not section_allowed(meta):
            st.rerun()  # the whole app: its router shows sign-in, no access or what is broken
        _router.active, _router.meta, _router.said = True, meta, set()
        try:
            draw(st.container(), *args)
        except AuditWriteError:
            log.error("section stopped: the audit log cannot be written")
            from app import AUDIT_STOPPED

            st.error(AUDIT_STOPPED, icon=":material/error:")
    except BaseException as exc:  # a rerun or a stop ends a run by raising; the timing line says which
        outcome = type(exc).__name__
        raise
    finally:
        _router.active = False
        end_run(outcome)


def section_allowed(meta: dict | None) -> bool:
    """What the router requires of every run, checked again for a section rerunning alone."""
    from app import SIGNED_IN_KEY, page_roles

    config = hosting()
    if config.broken or st.session_state.get(AUDIT_FAILED_KEY):
        return False
    access = current_access(config)
    scope = access.scope
    if scope is None or meta is None:
        return False
    if config.hosted and st.session_state.get(SIGNED_IN_KEY) != (scope.user, access.issuer):
        return False  # a sign-in the router has not recorded yet
    return (scope.role == "admin" or scope.role in page_roles(meta)) and page_is_served(meta)


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


TIMING_ENV = "CHILDSTAT_TIMING_LOG"  # "1": one line per script run in the server's log (benchmarks/load.py)
timing_log = logging.getLogger("childstat.timing")
timing_log.setLevel(logging.INFO)
timing_log.propagate = False  # its own handler below, not whatever the root logger does
_timing_setup = threading.Lock()


def timing_on() -> bool:
    return os.environ.get(TIMING_ENV, "") not in ("", "0")


def _timing_handler() -> None:
    """Send the timing lines to stderr (the server's log) once per process, whatever Streamlit's logging."""
    with _timing_setup:
        if not timing_log.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
            timing_log.addHandler(handler)


def begin_run() -> None:
    """Start of a script run (app.py): the extract is looked up at most once until end_run()."""
    _router.memo = None
    _router.config = None
    _router.remember = True
    _router.page = None
    _router.started = (time.perf_counter(), time.thread_time())


def note_page(stem: str) -> None:
    """Which page this run draws (its file's stem), for the timing line."""
    _router.page = stem


def end_run(outcome: str = "done") -> None:
    """End of a script run. With CHILDSTAT_TIMING_LOG=1, one line: the page, its wall-clock and this
    thread's CPU seconds, and how the run ended ("done", or the exception that ended it, e.g.
    RerunException when the user moved on). Nothing about who asked or which child."""
    _router.memo = None
    _router.config = None
    _router.remember = False
    started = getattr(_router, "started", None)
    if started is None or not timing_on():
        return
    _timing_handler()
    wall, cpu = time.perf_counter() - started[0], time.thread_time() - started[1]
    page = getattr(_router, "page", None) or "-"
    timing_log.info("page_run page=%s wall_s=%.3f cpu_s=%.3f outcome=%s", page, wall, cpu, outcome)


def _current() -> tuple[Loaded, str]:
    """The loaded extract and its file signature, found once per script run.

    Finding them lists the extract folder and stats every file; a page asks for them once per
    question, so within a run the first answer is kept. The next run (the next page load) looks again,
    so a refreshed extract is still noticed on the next page load.
    """
    memo = getattr(_router, "memo", None)
    if memo is not None:
        return memo
    path = extract_path()
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


OPENED_KEY = "_childstat_opened_extract"  # an extract this session opened from the Import page


def extract_path() -> str:
    """The extract this session reads: one it opened on the Import page (analysts and administrators only,
    who see every child anyway), else the configured one (--data, CHILDSTAT_DATA, the sample)."""
    opened = st.session_state.get(OPENED_KEY)
    if opened:
        scope = current_scope()
        if scope is not None and scope.sees_everything:
            return opened
    return str(data_dir())


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
    """The mode and the hosted configuration, or why it is broken (pages/_hosting.py).

    Read afresh by every script run, once: a page asks for it with every question (who is asking),
    and reading the secrets each time was a tenth of a warm page view's CPU."""
    if not getattr(_router, "remember", False):
        return _hosting.hosting()
    if getattr(_router, "config", None) is None:
        _router.config = _hosting.hosting()
    return _router.config


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
CALLBACK_EVENTS = {"download", "extract_opened"}  # recorded from a widget callback, where raising cannot stop the page


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


def scope_key(scope: Scope) -> tuple:
    """Who an answer or a figure is for: every cached one is kept under it, and never shared across it."""
    return (scope.role, scope.user, scope.worker_id, scope.team_id)


def cached_chart(build: Callable[[], Any], alt: str | None, about: tuple) -> Any:
    """A chart (pages/_charts.py `Chart`) made by `build` once per extract version, reader and `about`
    (everything it is made from: the answers it draws, by content, and the chart's options), then drawn
    from memory by every later view. Never shared across readers or extract versions, even when two
    answers are the same."""
    from pages._charts import chart

    state, signature = _current()
    scope = current_scope()
    if state.engine is None or scope is None:  # no extract or no reader: made for this view only
        return chart(build(), alt)
    maker = f"{build.__module__}.{build.__qualname__}:{build.__code__.co_firstlineno}"
    return _kept_chart(signature, scope_key(scope), maker, _hashable(about), alt, build)


@st.cache_resource(show_spinner=False, max_entries=1024, ttl=dt.timedelta(hours=12))
def _kept_chart(signature: str, scope: tuple, maker: str, about: tuple, alt: str | None, _build: Callable) -> Any:
    """The same Chart object for every view with the same key (nothing draws into it: st.cache_resource
    hands it out as it is, not a copy per view as st.cache_data would). Bounded: 1,024 charts, each
    dropped 12 hours after it was made."""
    from pages._charts import chart

    return chart(_build(), alt)


def _hashable(value):
    """A chart's `about` as nested tuples (parameters often come as dicts), so it can key the cache; an
    answer (a frame or a column) by its exact content: its schema and a SHA-256 of its Arrow IPC bytes."""
    if isinstance(value, pl.Series):
        value = value.to_frame()
    if isinstance(value, pl.DataFrame):
        content = hashlib.sha256(value.write_ipc(None).getvalue()).hexdigest()
        return ("frame", tuple((c, str(t)) for c, t in value.schema.items()), value.height, content)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in sorted(value.items(), key=lambda item: repr(item[0])))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_hashable(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, set | frozenset) else items)
    return value


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
        result = _cached_run(signature, scope_key(scope), name, tuple(sorted(params.items())))
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
    return wording.count(value)


def share_text(numerator, denominator, value=None) -> str:
    """A percentage for display, hidden when it rests on a count the engine hid."""
    if numerator is None or denominator in (None, 0) or (value is None and numerator is None):
        return "–" if denominator == 0 else setting("symbol")
    return wording.percent(value if value is not None else numerator / denominator)


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


TABLE_ROWS = 20  # rows a table shows before it scrolls (Streamlit's own default is 10)
ROW_PX = 35  # Streamlit's row height: one line
WRAPPED_ROW_PX = 68  # Streamlit's grid wraps text only in rows taller than 4rem (64 px): three lines
LONG_TEXT = 32  # characters: a text column longer than this gets a fixed width and wraps


def brief(label: str, meaning: str, **settings) -> dict:
    """A column's short heading with its full wording as the heading's tooltip, so a table fits the screen and
    the meaning is kept (the CSV keeps the full wording: it is the frame's own column name)."""
    return {"label": label, "help": meaning, **settings}


def table_layout(frame: pl.DataFrame, column_config: dict | None) -> tuple[dict, dict]:
    """Column settings and sizes so a table fits a 1440-pixel screen: the first (identifying) column pinned,
    so it stays in view should a table still scroll sideways; long text columns a fixed width, with rows
    tall enough for the text to wrap onto three lines; and up to TABLE_ROWS rows in view."""
    config = {c: {"label": v} if isinstance(v, str) else v for c, v in (column_config or {}).items()}
    if frame.width and config.get(frame.columns[0], {}) is not None:  # None: a column the page hides
        config[frame.columns[0]] = {**config.get(frame.columns[0], {}), "pinned": True}
    longest = {
        c: frame[c].str.len_chars().max() or 0
        for c, dtype in frame.schema.items()
        if dtype == pl.String and config.get(c, {}) is not None
    }
    long_text = {c: n for c, n in longest.items() if n > LONG_TEXT}
    for column, n in long_text.items():
        config[column] = {"width": "large" if n > 3 * LONG_TEXT else "medium", **config.get(column, {})}
    row_px = WRAPPED_ROW_PX if long_text else ROW_PX
    rows = max(1, min(frame.height, TABLE_ROWS if not long_text else TABLE_ROWS // 2))
    return config, {"row_height": row_px, "height": ROW_PX + row_px * rows + 3}


def show_table(
    container,
    frame: pl.DataFrame,
    file_stem: str,
    column_config: dict | None = None,
    key: str | None = None,
    filters: dict | None = None,
    question: str | None = None,
    pick: bool = False,
    title: str | None = None,
    **kwargs,
) -> int | None:
    """A table on the page with CSV and Excel downloads of exactly what is shown (pages/_export.py), each
    made only when its button is clicked (so a page with many tables costs nothing until then).

    With `pick`, the reader can select one row (to open what is behind it): the selected row's number
    is returned, else None.

    `filters` (every choice the reader made for this table, e.g. {"team": "T07", "period": "6 months"}:
    codes, never a child's ID or a person's name) and the extract's as_of name the file. `question` (a
    registry name) gives the workbook's title and description when the table is one question's answer;
    a table that is not (several questions side by side, a workbench register) says what it is in `title`.
    Every call passes one of the two (tests/test_download_names.py checks the pages' source).
    """
    if pick:  # a selectable table keeps its selection under a key of its own
        kwargs |= {"on_select": "rerun", "selection_mode": "single-row", "key": f"table_{key or file_stem}"}
    config, sizes = table_layout(frame, column_config)
    shown = container.dataframe(
        table_data(frame),
        hide_index=True,
        width="stretch",
        column_config=config,
        alt=f"Table of {frame.height:,} rows: {', '.join(c for c in frame.columns if config.get(c, {}) is not None)}.",
        placeholder="–",  # an empty cell (no date, nothing to measure) reads as a dash, not "None"
        **(sizes | kwargs),
    )
    _print.print_copy(container, frame, config)  # what prints in the grid's place: every row up to a limit
    about = download_about(file_stem, filters, question, title)
    symbol = setting("symbol")
    key = key or file_stem
    csv_name = _export.file_name(file_stem, filters, about.as_of, "csv")
    # The two buttons side by side (a stand-in container in a unit test may not have rows: then stacked)
    buttons = container.container(horizontal=True) if hasattr(container, "container") else container
    buttons.download_button(
        "Download CSV",
        audited_download(csv_name, frame.height, lambda: _export.csv_bytes(frame, symbol)),
        file_name=csv_name,
        mime="text/csv",
        key=f"download_{key}",
        icon=":material/download:",
    )
    xlsx_name = _export.file_name(file_stem, filters, about.as_of, "xlsx")
    buttons.download_button(
        "Download Excel",
        audited_download(xlsx_name, frame.height, lambda: _export.xlsx_bytes(frame, about, symbol)),
        file_name=xlsx_name,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"download_xlsx_{key}",
        icon=":material/table_view:",
    )
    rows = shown.selection.rows if pick and shown is not None else []
    return rows[0] if rows else None


def plain_table(container, frame: pl.DataFrame) -> None:
    """A table without downloads (a working view: validation results, examples): the grid, and what prints
    in its place (pages/_print.py)."""
    container.dataframe(table_data(frame), hide_index=True, width="stretch")
    _print.print_copy(container, frame, downloads=False)


def download_about(
    file_stem: str, filters: dict | None = None, question: str | None = None, title: str | None = None
) -> _export.About:
    """What a download from this page is: page, question, filters, extract and the disclosure rule applied."""
    meta = getattr(_router, "meta", None) or {}
    title, description = title or file_stem.replace("_", " ").capitalize(), ""
    if question:
        query = get_query(question)
        title, description = query.title, query.description
    if getattr(_router, "active", False):
        state, signature = _current()
        engine, scope = state.engine, current_scope()
    else:  # a table drawn outside a page (a unit test): nothing is known about the extract or the reader
        engine, scope, signature = None, None, ""
    return _export.About(
        page=meta.get("title", ""),
        title=title,
        description=description,
        filters=dict(filters or {}),
        as_of=engine.as_of if engine else None,
        council=engine.extract.la_name if engine else "",
        extract_version=_export.extract_version(engine.extract.manifest, signature) if engine else "",
        suppression=_export.suppression_rule(
            scope.role if scope else "none", bool(setting("enabled")), setting("threshold"), setting("symbol")
        ),
    )


def audited_download(file_name: str, rows: int, make: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download made only when clicked (Streamlit runs it outside the page's script run), recorded in
    the audit log first: if the record cannot be written on a hosted instance, nothing is downloaded.

    Outside a page (a unit test drawing one table) there is no reader to record, and nothing is offered
    to anyone."""
    if not getattr(_router, "active", False):
        return make
    config = hosting()
    access = current_access(config)
    user, role = (access.scope.user, access.scope.role) if access.scope else ("signed out", "none")
    page = st.session_state.get(PAGE_KEY)
    hosted_now = config.hosted or config.broken
    recorded_name = _audit.strip_child_from_file_name(file_name)

    def build() -> bytes:
        _audit.record(
            "download",
            user=user,
            role=role,
            hosted=hosted_now,
            key=config.audit_key,
            page=page,
            file=recorded_name,
            rows=rows,
        )
        try:
            return make()
        except Exception as exc:  # noqa: BLE001 - Streamlit logs what a download raises: only its type, never values
            log.error("download %s not made: %s", recorded_name, type(exc).__name__)
            raise DownloadNotMade(recorded_name) from None

    return build


class DownloadNotMade(Exception):
    """A download's file could not be made (the browser says so; the server log has the cause's type only)."""


# Every page: section headings (h2, h3 under the page's h1, so none is skipped) at a reading size, and a
# keyboard focus that cannot be missed (WCAG 2.4.7, 2.4.13): a yellow fill and a dark ring, GOV.UK's style.
FRAME_CSS = """
<style>
[data-testid="stMain"] h2 { font-size: 1.45rem; padding-top: 1rem; }
[data-testid="stMain"] h3 { font-size: 1.2rem; }
[data-testid="stSidebarNavLink"]:focus-visible, [data-testid="stPageLink-NavLink"]:focus-visible {
  background-color: #ffdd00 !important; outline: 3px solid #0b0c0c !important; outline-offset: 0;
}
[data-testid="stSidebarNavLink"]:focus-visible span, [data-testid="stPageLink-NavLink"]:focus-visible span {
  color: #0b0c0c !important;
}
a:focus-visible, button:focus-visible, [role="tab"]:focus-visible, [role="radio"]:focus-visible,
summary:focus-visible { outline: 3px solid #0b0c0c !important; outline-offset: 2px; box-shadow: 0 0 0 6px #ffdd00; }
/* A chart's text alternative (pages/_charts.py): read by screen readers, not drawn, taking no space. */
.childstat-sr-only { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; margin: 0; }
[data-testid="stElementContainer"]:has(.childstat-sr-only) { position: absolute; }
</style>
"""

PRINT_CSS = _print.PRINT_CSS  # pages/_print.py: A4 landscape, tables printed whole, charts fitted
