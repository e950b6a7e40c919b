"""Who sees what: scoping in the engine, the navigation per role, sign-in, and the audit log.

On the tiny extract: T1 holds C1 (worker W1); T2 holds C2, C3 (worker W3) and C6 (W4); T3 holds C5.
"""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._audit import child_token
from queries.access import Scope, scope_from_user
from queries.engine import NotAllowed

ROOT = Path(__file__).resolve().parent.parent
T1_MANAGER = Scope("team_manager", "manager@tiny.gov.uk", worker_id="W2", team_id="T1")
W3_WORKER = Scope("social_worker", "cara@tiny.gov.uk", worker_id="W3", team_id="T2")
HEAD = Scope("head_of_service", "head@tiny.gov.uk")
ANALYST = Scope("analyst", "analyst@tiny.gov.uk")
OTHER_TEAMS_CHILDREN = {"C2", "C3", "C5", "C6"}  # not T1's


def children_in(frame) -> set:
    return set(frame["child_id"]) if "child_id" in frame.columns else set()


@pytest.mark.parametrize("query", ["worker_cases", "overdue_visits", "due_soon", "open_assessments"])
def test_a_manager_cannot_reach_another_teams_children_by_parameter(tiny_engine, query):
    asked_for_t2 = tiny_engine.run(query, scope=T1_MANAGER, team_id="T2")
    assert not children_in(asked_for_t2) & OTHER_TEAMS_CHILDREN
    assert set(asked_for_t2["team_id"]) <= {"T1"}


def test_a_manager_sees_own_team_only(tiny_engine):
    assert set(tiny_engine.run("team_list", scope=T1_MANAGER)["team_id"]) == {"T1"}
    assert set(tiny_engine.run("caseload_by_worker", scope=T1_MANAGER, team_id="T2")["worker_id"]) == {"W1", "W2"}
    with pytest.raises(NotAllowed, match="not on your caseload"):
        tiny_engine.run("child_chronology", scope=T1_MANAGER, child_id="C2")
    assert not tiny_engine.run("child_chronology", scope=T1_MANAGER, child_id="C1").is_empty()
    assert children_in(tiny_engine.run("worker_cases", scope=T1_MANAGER)) == {"C1"}
    with pytest.raises(NotAllowed):
        tiny_engine.run("team_outcomes", scope=T1_MANAGER)


def test_a_social_worker_sees_own_caseload_only(tiny_engine):
    assert children_in(tiny_engine.run("worker_cases", scope=W3_WORKER, worker_id="W1")) == {"C2", "C3"}
    with pytest.raises(NotAllowed):
        tiny_engine.run("child_chronology", scope=W3_WORKER, child_id="C6")  # W4's child
    assert set(tiny_engine.run("caseload_by_worker", scope=W3_WORKER)["worker_id"]) == {"W3"}
    with pytest.raises(NotAllowed):
        tiny_engine.run("compliance_summary", scope=W3_WORKER)


def test_head_of_service_gets_figures_not_children(tiny_engine):
    with pytest.raises(NotAllowed, match="not individual children"):
        tiny_engine.run("worker_cases", scope=HEAD)
    assert tiny_engine.run("open_cases", scope=HEAD)["open_cases"][0] is None  # 5 children: too few to show
    assert tiny_engine.run("open_cases", scope=ANALYST)["open_cases"][0] == 5
    assert "worker_name" not in tiny_engine.run("caseload_by_worker", scope=HEAD).columns


def test_analyst_sees_everything_pseudonymously(tiny_engine):
    caseload = tiny_engine.run("worker_cases", scope=ANALYST)
    assert children_in(caseload) == {"C1", "C2", "C3", "C5", "C6"}
    assert "worker_name" not in tiny_engine.run("caseload_by_worker", scope=ANALYST).columns


def test_role_map():
    users = {"a@x.gov.uk": {"role": "team_manager", "team_id": "T1"}, "b@x.gov.uk": {"role": "wizard"}}
    assert scope_from_user("a@x.gov.uk", users) == Scope("team_manager", "a@x.gov.uk", None, "T1")
    assert scope_from_user("b@x.gov.uk", users) is None  # an unknown role gets nothing
    assert scope_from_user("c@x.gov.uk", users) is None
    assert scope_from_user(None, users) is None


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-secret",
        "client_id": "childstat", "client_secret": "s", "server_metadata_url": "http://127.0.0.1:1/.well-known"}  # fmt: skip
USERS = {
    "manager@tiny.gov.uk": {"role": "team_manager", "team_id": "T1", "worker_id": "W2"},
    "cara@tiny.gov.uk": {"role": "social_worker", "team_id": "T2", "worker_id": "W3"},
    "head@tiny.gov.uk": {"role": "head_of_service"},
    "analyst@tiny.gov.uk": {"role": "analyst"},
}


AUDIT_KEY = "test-audit-key-0123456789abcdef"


def hosted_app(data, monkeypatch, tmp_path, email: str | None, users: dict | None = None, **claims) -> AppTest:
    """app.py in hosted mode (CHILDSTAT_MODE=hosted) with valid secrets, signed in as `email` (None: signed out)."""
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    monkeypatch.setenv("CHILDSTAT_DATA", str(data))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["childstat"] = {"users": USERS if users is None else users, "audit_key": AUDIT_KEY}
    at.user = {"is_logged_in": email is not None} | ({"email": email} | claims if email else {})
    at.run()
    return at


def everything_shown(at: AppTest) -> str:
    parts = [
        str(e.value) for kind in ("markdown", "caption", "title", "warning", "error", "info") for e in at.get(kind)
    ]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [" ".join(map(str, s.options)) for s in at.selectbox]
    return "\n".join(parts)


def test_signed_out_visitor_sees_only_sign_in_and_no_data(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, None)
    assert not at.exception
    assert [t.value for t in at.title] == ["ChildStat"]
    assert any(b.label == "Sign in" for b in at.button)
    shown = everything_shown(at)
    assert "Tiny Test Borough" not in shown and "C1" not in shown and not at.metric and not at.dataframe


def test_signed_in_without_a_role_gets_no_data(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "stranger@elsewhere.org")
    assert not at.exception
    assert any("no ChildStat role" in w.value for w in at.warning)
    assert not at.metric and not at.dataframe


def test_team_manager_pages_never_show_another_teams_child(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk")
    assert not at.exception
    for page in ("pages/caseload.py", "pages/home.py", "pages/patterns.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        if page == "pages/caseload.py":
            for view in ("My caseload", "My team"):
                at.radio(key="caseload_view").set_value(view).run()
                shown = everything_shown(at)
                assert "C1" in shown or view == "My caseload"
                assert not any(child in shown.split() or f",{child}," in shown for child in OTHER_TEAMS_CHILDREN)
                assert "Child Protection South" not in shown  # another team's name
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/team_outcomes.py")  # not in a team manager's navigation at all


def test_head_of_service_sees_aggregates_only(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "head@tiny.gov.uk")
    at.switch_page("pages/team_outcomes.py").run()
    assert not at.exception
    assert at.dataframe
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/caseload.py")  # a child-level page: not in a head of service's navigation


def test_audit_log_records_pages_filters_and_no_child_ids(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk")
    at.switch_page("pages/caseload.py").run()
    text = (tmp_path / "audit.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"sign_in", "page_view", "query"} <= {e["event"] for e in lines}
    assert all(e["user"] == "manager@tiny.gov.uk" and e["role"] == "team_manager" for e in lines)
    assert any(e["event"] == "page_view" and e["page"] == "Caseload" for e in lines)
    chronology = [e for e in lines if e["event"] == "query" and e["query"] == "child_chronology"]
    hashed_c1 = child_token("C1", AUDIT_KEY.encode())
    assert chronology and all(e["filters"]["child_id"] == hashed_c1 for e in chronology)
    assert all(e["page"] == "Caseload" for e in chronology)
    assert all(e["scope"] == {"role": "team_manager", "team_id": "T1", "worker_id": "W2"} for e in chronology)
    assert '"C1"' not in text
    assert all(e["ts"].endswith("+00:00") for e in lines)


def test_local_mode_is_labelled(tiny_dir, monkeypatch):
    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert any("Local mode" in c.value for c in at.sidebar.caption)
