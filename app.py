"""ChildStat: the router and the frame every page shares.

Pages are found, not listed: every `pages/*.py` not starting with `_` declares
`PAGE = {"title": ..., "description": ..., "icon": ..., "order": ...}`, a
`render(container)` function, and ends with `if __name__ == "__main__": page_main(render)`. Adding a page
file adds it to the navigation.
Run with `streamlit run app.py [-- --data DIR]`; else CHILDSTAT_DATA names the
extract folder, else the shipped sample_data/ is used.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys

import streamlit as st

from pages._discovery import PAGES_DIR, page_files, page_meta

__all__ = ["PAGES_DIR", "main", "navigation_pages", "page_files", "page_meta"]


DEFAULT_ROLES = ["analyst", "admin"]  # a page that does not say who may see it is for analysts
LANDING = {"social_worker": "caseload"}  # where a signed-in user lands, when not on the first page (Home)


def page_roles(meta: dict) -> list[str]:
    return list(meta.get("roles", DEFAULT_ROLES))


def landing(role: str | None, stems: list[str]) -> int:
    """Which of the pages (their file stems, in menu order) a user of this role opens first."""
    return stems.index(LANDING[role]) if LANDING.get(role) in stems else 0


def navigation_pages(role: str | None = None) -> list[st.Page]:
    """The pages in PAGE order; with a role, only the pages that role may open."""
    metas = sorted(((page_meta(p), p) for p in page_files()), key=lambda mp: (mp[0].get("order", 99), mp[1].name))
    if role is not None:
        metas = [(meta, path) for meta, path in metas if role == "admin" or role in page_roles(meta)]
    first = landing(role, [path.stem for _, path in metas])
    return [
        st.Page(
            str(path.relative_to(PAGES_DIR.parent)),
            title=meta["title"],
            icon=meta.get("icon"),
            url_path=path.stem,
            default=index == first,
        )
        for index, (meta, path) in enumerate(metas)
    ]


def draw_frame(scope) -> None:
    """Council, as_of, which extract, the data-quality badge and who is signed in, on every page."""
    from pages._frame import hosted, loaded, quality_badge
    from queries.access import ROLES

    state = loaded()
    with st.sidebar:
        if state.engine is None:
            st.error("No usable extract loaded", icon=":material/error:")
            st.caption(state.problem)
        else:
            extract = state.engine.extract
            st.markdown(f"**{extract.la_name}**")
            st.caption(f"Figures as at **{extract.as_of:%d %B %Y}** ({extract.as_of_source})")
            if scope.sees_everything:
                st.caption(f"Extract: `{extract.path.name}`")
            label, icon = quality_badge(state)
            if scope.sees_everything:
                st.page_link("pages/data_quality.py", label=label, icon=icon)
        if hosted():
            st.caption(f"Signed in as **{scope.user}** ({ROLES[scope.role]})")
            if st.button("Sign out", key="sign_out", icon=":material/logout:"):
                st.logout()
        else:
            st.caption(
                ":material/lock_open: **Local mode**: no sign-in, so whoever can open this address sees everything."
            )


def sign_in_page() -> None:
    """The only page a signed-out visitor gets: no data, just the way in."""
    from pages._frame import auth_providers

    st.title("ChildStat")
    st.markdown("ChildStat holds information about children. Sign in with your council account to continue.")
    providers = auth_providers()
    if not providers and st.button("Sign in", type="primary", icon=":material/login:"):
        st.login()
    for provider in providers:
        if st.button(f"Sign in with {provider}", type="primary", icon=":material/login:", key=f"login_{provider}"):
            st.login(provider)


def no_access_page() -> None:
    from pages._frame import current_access
    from pages._hosting import REFUSALS

    access = current_access()
    reason = REFUSALS.get(access.refusal or "", REFUSALS["not_in_role_map"])
    st.title("ChildStat")
    st.warning(
        f"You are signed in as {access.email or 'an unknown account'}, but {reason}. Ask your ChildStat administrator.",
        icon=":material/person_off:",
    )
    if st.button("Sign out", icon=":material/logout:"):
        st.logout()


def broken_config_page() -> None:
    """All a broken configuration serves: what is wrong (no secret values), and no data."""
    from pages._frame import hosting

    st.title("ChildStat")
    st.error(
        "ChildStat is not available: its hosted configuration is broken, so it shows no data until "
        "an administrator fixes it.",
        icon=":material/gpp_bad:",
    )
    st.markdown("What is wrong:\n\n" + "\n".join(f"- {problem}" for problem in hosting().problems))
    st.caption("The same is in the server log; docs/deploy.md describes each setting.")


AUDIT_STOPPED = (
    "ChildStat cannot write to its audit log, so it has stopped here: nothing is shown that has not "
    "been recorded. Tell your ChildStat administrator."
)


def apply_data_argument(argv: list[str]) -> None:
    """`streamlit run app.py -- --data DIR` takes precedence over CHILDSTAT_DATA."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data")
    known, _ = parser.parse_known_args(argv)
    if known.data:
        os.environ["CHILDSTAT_DATA"] = known.data


def main() -> None:
    from pages._frame import begin_run, end_run

    begin_run()
    outcome = "done"
    try:
        _main()
    except BaseException as exc:  # Streamlit's rerun and stop end a run by raising; the timing line says which
        outcome = type(exc).__name__
        raise
    finally:
        end_run(outcome)


def _main() -> None:
    from pages._audit import AuditWriteError
    from pages._frame import AUDIT_FAILED_KEY

    apply_data_argument(sys.argv[1:])
    st.set_page_config(page_title="ChildStat", page_icon=":material/child_care:", layout="wide")
    try:
        if st.session_state.pop(AUDIT_FAILED_KEY, False):  # a download's callback could not be recorded
            raise AuditWriteError("a download could not be recorded")
        _route()
    except AuditWriteError:
        logging.getLogger("childstat").error("page stopped: the audit log cannot be written")
        st.error(AUDIT_STOPPED, icon=":material/error:")


SIGNED_IN_KEY = "_childstat_signed_in"  # who this session's sign-in was recorded for
REFUSED_KEY = "_childstat_refused"  # which refusal this session has recorded


def _token_issued() -> str | None:
    """When the identity token was issued (its `iat`), so an auditor can tell one sign-in's sessions apart."""
    issued = st.user.get("iat")
    if isinstance(issued, int | float) and not isinstance(issued, bool):
        return dt.datetime.fromtimestamp(issued, dt.UTC).isoformat(timespec="seconds")
    return None


def _route() -> None:
    """Broken configuration, sign-in, no access, or the user's pages: each recorded in the audit log."""
    from pages._audit import AuditWriteError
    from pages._frame import audit, current_access, hosting, note_page, routed

    config = hosting()
    if config.broken:
        note_page("broken_config")
        with contextlib.suppress(AuditWriteError):  # nothing is shown anyway; record() has logged it
            audit("hosting_broken", problems=len(config.problems))
        st.navigation([st.Page(broken_config_page, title="Not available", icon=":material/gpp_bad:")]).run()
        return
    if config.hosted and st.user.get("is_logged_in") is not True:
        note_page("sign_in")
        st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")]).run()
        return
    access = current_access(config)
    if access.scope is None:
        note_page("no_access")
        if st.session_state.get(REFUSED_KEY) != (access.email, access.refusal):
            audit("sign_in_refused", reason=access.refusal, issuer=access.issuer)
            st.session_state[REFUSED_KEY] = (access.email, access.refusal)
        audit("no_access", reason=access.refusal)
        st.navigation([st.Page(no_access_page, title="No access", icon=":material/person_off:")]).run()
        return
    scope = access.scope
    # expanded: with more than twelve pages Streamlit otherwise folds the last ones behind "View more"
    page = st.navigation(navigation_pages(scope.role), expanded=True)
    st.set_page_config(page_title=f"{page.title} · ChildStat")  # the browser tab and what a screen reader announces
    if config.hosted and st.session_state.get(SIGNED_IN_KEY) != (scope.user, access.issuer):
        audit("sign_in", page=page.title, scope=scope, issuer=access.issuer, token_issued=_token_issued())
        st.session_state[SIGNED_IN_KEY] = (scope.user, access.issuer)
    audit("page_view", page=page.title)
    draw_frame(scope)
    pages_for_role = [(f"pages/{path.name}", page_meta(path)) for path in page_files()]
    pages_for_role = [(p, m) for p, m in pages_for_role if scope.role == "admin" or scope.role in page_roles(m)]
    path, meta = next(((p, m) for p, m in pages_for_role if m["title"] == page.title), (None, None))
    note_page(path.removeprefix("pages/").removesuffix(".py") if path else "unknown")
    routed(page.run, meta, sorted(pages_for_role, key=lambda pm: pm[1].get("order", 99)))


if __name__ == "__main__":
    main()
