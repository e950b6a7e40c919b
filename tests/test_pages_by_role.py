"""Every page, as every role a hosted instance signs people in as, on the tiny extract.

tests/test_pages.py renders every page as the local user, who sees everything. The engine gives
other roles less (a social worker their own caseload, an analyst and a head of service no worker
names, suppressed small counts), and a page must lay out whatever it is given without an exception:
one reader's role must never be the one that breaks a page.
"""

from __future__ import annotations

import pytest
from test_pages import open_page

from app import page_files
from queries.access import Scope

ROLES = {
    "social_worker": Scope("social_worker", "cara@tiny.gov.uk", worker_id="W3", team_id="T2"),
    "team_manager": Scope("team_manager", "manager@tiny.gov.uk", worker_id="W2", team_id="T1"),
    "head_of_service": Scope("head_of_service", "head@tiny.gov.uk"),
    "analyst": Scope("analyst", "analyst@tiny.gov.uk"),
}
# Import writes a new extract: tested by itself (tests/test_ingest_app.py), for the roles allowed to.
PAGES = [p for p in page_files() if p.stem != "import_data"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(page, role, tiny_dir, monkeypatch):
    at = open_page(page, tiny_dir, monkeypatch, scope=ROLES[role])
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.sidebar.markdown, "the shared frame is missing"
