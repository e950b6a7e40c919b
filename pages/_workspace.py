"""The workspace database for the pages that use it (case-file audits, hypotheses, audit factors in Patterns)."""

from __future__ import annotations

import os

import streamlit as st

from workbench.workspace import WORKSPACE_ENV, WorkspaceError, open_workspace


@st.cache_resource(show_spinner="Opening the workspace…", max_entries=4)
def _workspace(settings: tuple):  # keyed by the settings that name the workspace
    return open_workspace()


def workspace():
    """The workspace engine (a broken setting raises WorkspaceError every time: nothing is cached for it)."""
    return _workspace((os.environ.get(WORKSPACE_ENV, ""), os.environ.get("CHILDSTAT_SETTINGS", "")))


def opened_workspace(container):
    """The workspace engine, or None after saying on the page why there is none."""
    try:
        return workspace()
    except WorkspaceError as exc:
        container.error(f"No workspace: {exc}", icon=":material/database_off:")
        return None
