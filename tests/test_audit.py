"""The audit log an auditor can use: every event, child IDs as keyed hashes, private files,
"who looked at this child?", and a hosted page that stops when its events cannot be written."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_access import AUDIT_KEY, AUTH, USERS, hosted_app

from pages import _audit
from pages._audit import AuditWriteError, child_token, record, redact, strip_child_from_file_name

ROOT = Path(__file__).resolve().parent.parent
KEY = b"a-key-for-these-tests-only"


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- hashing and redaction -----------------------------------------------------------------------


def test_child_ids_become_a_keyed_hash():
    expected = hmac.new(KEY, b"C1", hashlib.sha256).hexdigest()[:32]
    assert child_token("C1", KEY) == f"child:{expected}"
    assert child_token("C1", KEY) != child_token("C1", b"another-key") != child_token("C2", KEY)


@pytest.mark.parametrize(
    ("name", "child"),
    [
        ("chronology_C.1.2.csv", "C.1.2"),  # the ID runs past its first dot
        ("chronology_C0001234.csv", "C0001234"),
        ("chronology_ABC_12.x.json", "ABC_12.x"),
        ("drill_chronology_C.9.csv", "C.9"),
        ("child_77.3.zip", "77.3"),
        ("chronology_C.1.2", "C.1.2"),  # no extension: all of it is the ID
        ("chronology_C.1.2_2026-03-31.csv", "C.1.2"),  # a table's download ends with the extract's date
        ("chronology_ABC_12.x_2026-03-31.xlsx", "ABC_12.x"),
    ],
)
def test_file_names_named_after_a_child_are_hashed_whole(name, child):
    cleaned = strip_child_from_file_name(name, KEY)
    token = child_token(child, KEY)
    assert token in cleaned
    assert child not in cleaned.replace(token, "")
    assert cleaned.startswith(name[: name.index(child)])
    assert strip_child_from_file_name(cleaned, KEY) == cleaned  # already hashed: left as it is
    if "_2026-03-31." in name:  # the hash is of the ID alone, so `who-viewed ID` finds the download
        assert cleaned.endswith(f"{token}_2026-03-31{name[name.rindex('.') :]}")


def test_other_file_names_are_left_alone():
    for name in ("team_outcomes.csv", "measure_cpp_2_years_T1.csv", "childstat-validation.json", "children.csv"):
        assert strip_child_from_file_name(name, KEY) == name


def test_redaction_reaches_nested_filters_and_lists():
    fields = {
        "filters": {"child_id": "C.1.2", "team_id": "T1", "as_of": dt.date(2026, 3, 31)},
        "enforced": {"params": {"child_id": "C9", "worker_id": "W1"}, "child_ids": ["C1", "C2"]},
        "file": "chronology_C.1.2.csv",
        "rows": 4,
    }
    clean = redact(fields, KEY)
    assert clean["filters"] == {"child_id": child_token("C.1.2", KEY), "team_id": "T1", "as_of": "2026-03-31"}
    assert clean["enforced"]["params"] == {"child_id": child_token("C9", KEY), "worker_id": "W1"}
    assert clean["enforced"]["child_ids"] == [child_token("C1", KEY), child_token("C2", KEY)]
    assert clean["file"] == f"chronology_{child_token('C.1.2', KEY)}.csv"
    text = json.dumps(clean)
    assert not any(f'"{c}' in text or f"_{c}." in text for c in ("C.1.2", "C9", "C1", "C2"))


def test_a_value_known_to_be_a_child_id_is_hashed_wherever_it_is():
    clean = redact({"search": "C5", "other": "T1"}, KEY, child_ids={"C5"})
    assert clean == {"search": child_token("C5", KEY), "other": "T1"}


# --- writing ---------------------------------------------------------------------------------------


def test_the_log_and_its_new_folder_are_private(tmp_path, monkeypatch):
    log = tmp_path / "new" / "folder" / "audit.jsonl"
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(log))
    old = os.umask(0o022)
    try:
        record("page_view", user="a@x.gov.uk", role="analyst", hosted=True, key=KEY, page="Home")
    finally:
        os.umask(old)
    assert mode_of(log) == 0o600
    assert mode_of(log.parent) == 0o700
    [entry] = events(log)
    assert entry["event"] == "page_view" and entry["page"] == "Home" and entry["user"] == "a@x.gov.uk"


def test_a_failed_write_raises_when_hosted_and_is_logged_locally(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path))  # a folder: cannot be appended to
    with pytest.raises(AuditWriteError):
        record("page_view", user="a@x.gov.uk", role="analyst", hosted=True, key=KEY)
    with caplog.at_level("ERROR", logger="childstat"):
        record("page_view", user="local user", role="admin", hosted=False, key=KEY)
    assert "audit log not written (page_view event): IsADirectoryError" in caplog.text


def test_hosted_without_a_key_does_not_write_a_child_id(tmp_path, monkeypatch):
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr(_audit, "_secrets_dict", lambda: None)
    record("page_view", user="a@x.gov.uk", role="analyst", hosted=True)  # no child ID: no key needed
    with pytest.raises(AuditWriteError):
        record("query", user="a@x.gov.uk", role="analyst", hosted=True, filters={"child_id": "C1"})
    assert [e["event"] for e in events(tmp_path / "audit.jsonl")] == ["page_view"]


def test_the_local_key_is_made_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setenv("CHILDSTAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr(_audit, "_secrets_dict", lambda: None)
    first = _audit.current_key(hosted=False)
    key_file = tmp_path / "cache" / "audit.key"
    assert mode_of(key_file) == 0o600 and mode_of(key_file.parent) == 0o700
    assert len(first) == 64 and _audit.current_key(hosted=False) == first
    monkeypatch.setenv("CHILDSTAT_AUDIT_KEY", "configured-key-wins-0123")
    assert _audit.current_key(hosted=False) == b"configured-key-wins-0123"


# --- who looked at this child? -------------------------------------------------------------------


def write_history(log: Path, monkeypatch) -> None:
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(log))
    record("page_view", user="ben@x.gov.uk", role="team_manager", hosted=True, key=KEY, page="Caseload")
    record("query", user="ben@x.gov.uk", role="team_manager", hosted=True, key=KEY, page="Caseload",
           query="child_chronology", filters={"child_id": "C.1.2"})  # fmt: skip
    record("download", user="asha@x.gov.uk", role="social_worker", hosted=True, key=KEY, page="Caseload",
           file="chronology_C.1.2.csv", rows=7)  # fmt: skip
    record("query", user="cara@x.gov.uk", role="analyst", hosted=True, key=KEY, page="Caseload",
           query="child_chronology", filters={"child_id": "C.1.3"})  # fmt: skip
    with log.open("a") as f:
        f.write("not json\n")


def test_who_viewed_lists_the_people_the_times_and_the_pages(tmp_path, monkeypatch, capsys):
    log = tmp_path / "audit.jsonl"
    write_history(log, monkeypatch)
    monkeypatch.setenv("CHILDSTAT_AUDIT_KEY", KEY.decode())
    assert _audit.main(["who-viewed", "C.1.2", "--log", str(log)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Child C.1.2 ({child_token('C.1.2', KEY)}) in {log}:"
    assert "ben@x.gov.uk  team_manager  page: Caseload  query child_chronology" in out[1]
    assert "asha@x.gov.uk  social_worker  page: Caseload  download chronology_child:" in out[2]
    assert out[3] == "2 events by 2 people: asha@x.gov.uk, ben@x.gov.uk"
    assert len(out) == 4  # cara looked at another child
    assert all(line[:4] == str(dt.date.today().year) for line in out[1:3])


def test_who_viewed_from_the_command_line_with_the_key_in_a_secrets_file(tmp_path, monkeypatch):
    log = tmp_path / "audit.jsonl"
    write_history(log, monkeypatch)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[childstat]\naudit_key = "{KEY.decode()}"\n')
    env = {k: v for k, v in os.environ.items() if k != "CHILDSTAT_AUDIT_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "pages._audit", "who-viewed", "C.1.3", "--log", str(log), "--secrets", str(secrets)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "cara@x.gov.uk  analyst  page: Caseload  query child_chronology" in result.stdout
    assert "1 events by 1 person: cara@x.gov.uk" in result.stdout
    assert "(1 unreadable lines skipped)" in result.stderr
    wrong_key = tmp_path / "wrong.toml"
    wrong_key.write_text('[childstat]\naudit_key = "not-the-key-that-wrote-it"\n')
    result = subprocess.run(
        [sys.executable, "-m", "pages._audit", "who-viewed", "C.1.3", "--log", str(log), "--secrets", str(wrong_key)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Nobody looked at this child in this log." in result.stdout


# --- every event, from the app -------------------------------------------------------------------


def test_sign_in_page_views_queries_and_the_data_quality_download(tiny_dir, monkeypatch, tmp_path):
    users = USERS | {"analyst@tiny.gov.uk": {"role": "analyst"}}
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "analyst@tiny.gov.uk", users=users, iat=1_775_000_000)
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception
    at.download_button(key="download_validation_report").click().run()
    at.switch_page("pages/home.py").run()
    log = events(tmp_path / "audit.jsonl")
    kinds = [e["event"] for e in log]
    assert kinds.count("sign_in") == 1  # once per session, not per page
    assert log[0]["event"] == "sign_in" and log[0]["user"] == "analyst@tiny.gov.uk"
    assert log[0]["scope"] == {"role": "analyst", "team_id": None, "worker_id": None}
    assert log[0]["token_issued"] == "2026-03-31T23:33:20+00:00" and log[0]["page"] == "Home"
    assert [e["page"] for e in log if e["event"] == "page_view"] == ["Home", "Data quality", "Data quality", "Home"]
    [download] = [e for e in log if e["event"] == "download"]
    assert download["file"] == "childstat-validation.json" and download["page"] == "Data quality"
    assert download["user"] == "analyst@tiny.gov.uk" and download["role"] == "analyst"
    queries = [e for e in log if e["event"] == "query"]
    assert queries and all(e["scope"]["role"] == "analyst" and e["page"] == "Home" for e in queries)


def test_refusals_no_access_and_sign_in_refusals(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "stranger@elsewhere.org")
    at.run()  # a second visit to the no-access page: one refusal, two no-access visits
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", email_verified=False)
    log = events(tmp_path / "audit.jsonl")
    assert [(e["event"], e["user"], e["reason"]) for e in log] == [
        ("sign_in_refused", "stranger@elsewhere.org", "not_in_role_map"),
        ("no_access", "stranger@elsewhere.org", "not_in_role_map"),
        ("no_access", "stranger@elsewhere.org", "not_in_role_map"),
        ("sign_in_refused", "manager@tiny.gov.uk", "email_not_verified"),
        ("no_access", "manager@tiny.gov.uk", "email_not_verified"),
    ]
    assert all(e["role"] == "none" for e in log)


def test_a_refused_question_is_recorded_with_the_scope(tiny_dir, monkeypatch, tmp_path):
    def script():
        import streamlit as st

        from pages._frame import run

        st.write(run("child_chronology", child_id="C2"))  # T2's child, asked by T1's manager

    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    at = AppTest.from_function(script, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["childstat"] = {"users": USERS, "audit_key": AUDIT_KEY}
    at.user = {"is_logged_in": True, "email": "manager@tiny.gov.uk"}
    at.run()
    assert not at.exception
    assert any("not on your caseload" in w.value for w in at.warning)
    query, refused = events(tmp_path / "audit.jsonl")
    assert query["event"] == "query" and refused["event"] == "refused"
    assert refused["query"] == "child_chronology" and refused["reason"].startswith("This child is not on your caseload")
    assert refused["filters"] == {"child_id": child_token("C2", AUDIT_KEY.encode())}
    assert refused["scope"] == {"role": "team_manager", "team_id": "T1", "worker_id": "W2"}


def test_a_broken_configuration_visit_is_recorded(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", users={"x@tiny.gov.uk": {"role": "boss"}})
    assert any("hosted configuration is broken" in e.value for e in at.error)
    [entry] = events(tmp_path / "audit.jsonl")
    assert entry["event"] == "hosting_broken" and entry["user"] == "unknown" and entry["problems"] == 1


def test_a_hosted_page_stops_when_the_log_cannot_be_written(tiny_dir, monkeypatch, tmp_path):
    unwritable = tmp_path / "a-folder"
    unwritable.mkdir()
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(unwritable))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["childstat"] = {"users": USERS, "audit_key": AUDIT_KEY}
    at.user = {"is_logged_in": True, "email": "manager@tiny.gov.uk"}
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "ChildStat cannot write to its audit log, so it has stopped here: nothing is shown that has not "
        "been recorded. Tell your ChildStat administrator."
    ]
    assert not at.dataframe and not at.metric and not at.sidebar.markdown


def test_a_local_page_goes_on_when_the_log_cannot_be_written(tiny_dir, monkeypatch, tmp_path, caplog):
    unwritable = tmp_path / "a-folder"
    unwritable.mkdir()
    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(unwritable))
    monkeypatch.setenv("CHILDSTAT_CACHE", str(tmp_path / "cache"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    with caplog.at_level("ERROR", logger="childstat"):
        at.run()
    assert not at.exception and not at.error
    assert at.metric
    assert "audit log not written (page_view event): IsADirectoryError" in caplog.text
