"""Hosted mode is explicit and fails closed; local mode listens on loopback only.

A hosted instance whose sign-in, role map or audit key cannot be loaded shows a plain page
saying so and nothing else (never local mode); a signed-in user whose identity token or role
map entry does not pass gets the no-access page.
"""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path

import pytest
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options
from test_access import AUDIT_KEY, AUTH, USERS, everything_shown, hosted_app

from pages import _hosting
from pages._hosting import check, claim_refusal, requested_mode
from queries import settings
from queries.access import Scope, scope_from_user

ROOT = Path(__file__).resolve().parent.parent
SECRET_VALUES = (AUTH["cookie_secret"], AUTH["server_metadata_url"], AUDIT_KEY)
GOOD_SECRETS = {"auth": AUTH, "childstat": {"users": USERS, "audit_key": AUDIT_KEY}}
DUPLICATE_KEY_SECRETS = (
    "[auth]\n"
    'redirect_uri = "http://localhost:8501/oauth2callback"\n'
    'cookie_secret = "test-secret"\n'
    'client_id = "childstat"\n'
    'client_id = "childstat-again"\n'  # the one slip that used to mean local mode
    'client_secret = "s"\n'
    'server_metadata_url = "http://127.0.0.1:1/.well-known"\n'
    "[childstat]\n"
    f'audit_key = "{AUDIT_KEY}"\n'
    '[childstat.users."manager@tiny.gov.uk"]\n'
    'role = "team_manager"\n'
    'team_id = "T1"\n'
)


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """Point CHILDSTAT_SETTINGS at a file with this text (and forget the cached settings after)."""

    def write(text: str) -> Path:
        path = tmp_path / "settings.toml"
        path.write_text(text)
        monkeypatch.setenv("CHILDSTAT_SETTINGS", str(path))
        settings.load_settings.cache_clear()
        return path

    yield write
    settings.load_settings.cache_clear()


@contextlib.contextmanager
def streamlit_secrets_file(path: Path):
    """Streamlit's own secrets loader reading exactly this file (as `--secrets.files PATH` would)."""
    secrets_singleton._reset()
    try:
        with patch_config_options({"secrets.files": [str(path)]}):
            yield
    finally:
        secrets_singleton._reset()


def hosted(secrets=GOOD_SECRETS, secrets_problem=None, **lists) -> _hosting.Hosting:
    return check("hosted", None, secrets, secrets_problem, **lists)


def without(section: dict, key: str) -> dict:
    return {k: v for k, v in section.items() if k != key}


# --- the mode ----------------------------------------------------------------------------------


def test_the_mode_is_local_by_default_and_the_environment_overrides_settings(settings_file):
    assert requested_mode({}) == ("local", None)
    assert requested_mode({"CHILDSTAT_MODE": "hosted"}) == ("hosted", None)
    assert requested_mode({"CHILDSTAT_MODE": " Hosted "}) == ("hosted", None)
    settings_file('[hosting]\nmode = "hosted"\n')
    assert requested_mode({}) == ("hosted", None)
    assert requested_mode({"CHILDSTAT_MODE": "local"}) == ("local", None)


def test_an_unknown_mode_is_hosted_with_an_error(settings_file):
    mode, problem = requested_mode({"CHILDSTAT_MODE": "cloud"})
    assert mode == "hosted" and problem == 'CHILDSTAT_MODE is \'cloud\'; it must be "local" or "hosted"'
    settings_file('[hosting]\nmode = "public"\n')
    mode, problem = requested_mode({})
    assert mode == "hosted" and "settings [hosting] mode is 'public'" in problem
    settings_file("[hosting]\nmode = \n")  # not TOML: the mode cannot be known
    assert requested_mode({})[0] == "hosted"
    assert "cannot tell whether it is hosted" in requested_mode({})[1]
    config = check("hosted", problem, GOOD_SECRETS, None)
    assert config.broken and config.hosted


# --- the hosted configuration --------------------------------------------------------------------


def test_a_whole_hosted_configuration():
    config = hosted(allowed_email_domains=["@Tiny.gov.uk"], allowed_issuers=["https://login.example/"])
    assert config.problems == ()
    assert config.hosted and not config.broken
    assert config.users["manager@tiny.gov.uk"] == {"role": "team_manager", "team_id": "T1", "worker_id": "W2"}
    assert config.providers == ()
    assert config.audit_key == AUDIT_KEY.encode()
    assert config.allowed_email_domains == ("tiny.gov.uk",)
    assert config.allowed_issuers == ("https://login.example",)


@pytest.mark.parametrize(
    ("secrets", "problem"),
    [
        ({"childstat": GOOD_SECRETS["childstat"]}, "secrets.toml has no [auth] section"),
        (GOOD_SECRETS | {"auth": without(AUTH, "cookie_secret")}, "[auth] has no cookie_secret"),
        (GOOD_SECRETS | {"auth": without(AUTH, "client_id")}, "[auth] has no client_id"),
        (GOOD_SECRETS | {"auth": without(AUTH, "redirect_uri")}, "[auth] has no redirect_uri"),
        (GOOD_SECRETS | {"auth": AUTH | {"redirect_uri": "http://x/"}}, "redirect_uri must end with /oauth2callback"),
        (
            GOOD_SECRETS | {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "c", "entra": {"client_id": "x"}}},
            "[auth.entra] has no client_secret, server_metadata_url",
        ),
        (
            GOOD_SECRETS | {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "c", "my_idp": AUTH}},
            "[auth.my_idp]: a provider's name may not contain an underscore",
        ),
        ({"auth": AUTH, "childstat": {"audit_key": AUDIT_KEY}}, "secrets.toml has no role map"),
        (
            {"auth": AUTH, "childstat": {"audit_key": AUDIT_KEY, "users": USERS | {"x@tiny.gov.uk": {"role": "wizard"}}}},
            "role map entry 5 has role 'wizard'; it must be one of social_worker, team_manager",
        ),
        (
            {"auth": AUTH, "childstat": {"audit_key": AUDIT_KEY, "users": {"x@tiny.gov.uk": {"team_id": "T1"}}}},
            "role map entry 1 has no role; it must be one of",
        ),
        (
            {"auth": AUTH, "childstat": {"audit_key": AUDIT_KEY, "users": {"x@t.uk": {"role": "team_manager", "team_id": 4}}}},
            "role map entry 1: team_id must be non-empty text",
        ),
        (
            {"auth": AUTH, "childstat": {"audit_key": AUDIT_KEY, "users": USERS | {"Head@Tiny.gov.uk": {"role": "admin"}}}},
            "role map entry 5 repeats an address",
        ),
        ({"auth": AUTH, "childstat": {"users": USERS}}, "there is no audit key"),
        ({"auth": AUTH, "childstat": {"users": USERS, "audit_key": "short"}}, "the audit key is shorter than 16"),
    ],
)  # fmt: skip
def test_a_broken_hosted_configuration_says_why_without_secret_values(secrets, problem):
    config = hosted(secrets)
    assert config.broken and config.hosted
    assert any(problem in p for p in config.problems), config.problems
    said = " ".join(config.problems)
    assert not any(value in said for value in SECRET_VALUES)
    assert "@" not in said  # role map entries are named by position, never by address


def test_a_role_entry_missing_its_ids_is_a_note_not_a_broken_configuration():
    users = USERS | {
        "tm@tiny.gov.uk": {"role": "team_manager"},
        "sw@tiny.gov.uk": {"role": "social_worker", "team_id": "T2"},
    }
    config = hosted({"auth": AUTH, "childstat": {"users": users, "audit_key": AUDIT_KEY}})
    assert not config.broken
    assert config.notes == (
        "role map entry 5 (team_manager) has no team_id: that account gets no access",
        "role map entry 6 (social_worker) has no worker_id: that account gets no access",
    )
    assert scope_from_user("tm@tiny.gov.uk", config.users) is None
    assert scope_from_user("sw@tiny.gov.uk", config.users) is None
    assert _hosting.role_refusal("tm@tiny.gov.uk", config.users) == "role_entry_incomplete"
    assert _hosting.role_refusal("nobody@tiny.gov.uk", config.users) == "not_in_role_map"


def test_the_audit_key_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHILDSTAT_AUDIT_KEY", "an-environment-audit-key")
    config = hosted({"auth": AUTH, "childstat": {"users": USERS}})
    assert not config.broken and config.audit_key == b"an-environment-audit-key"


def test_local_mode_refuses_an_auth_section_or_unreadable_secrets():
    assert check("local", None, None, None).problems == ()
    assert check("local", None, {"childstat": {"audit_key": AUDIT_KEY}}, None).problems == ()
    with_auth = check("local", None, GOOD_SECRETS, None)
    assert with_auth.broken and 'secrets.toml has an [auth] section but the mode is "local"' in with_auth.problems[0]
    unreadable = check("local", None, None, "the secrets file cannot be read (x)")
    assert unreadable.broken and "cannot tell whether sign-in was meant to be on" in unreadable.problems[0]


def test_a_duplicate_key_in_a_real_secrets_file_breaks_hosted_mode(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(DUPLICATE_KEY_SECRETS)
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    with streamlit_secrets_file(secrets):
        assert _hosting.read_secrets() == (
            None,
            "the secrets file cannot be read (Cannot overwrite a value (at line 5, column 30))",
        )
        config = _hosting.hosting()
    assert config.hosted and config.broken
    assert config.problems[0] == "the secrets file cannot be read (Cannot overwrite a value (at line 5, column 30))"
    assert "secrets.toml has no [auth] section (sign-in through your identity provider)" in config.problems


def test_the_broken_configuration_is_logged_without_secrets(caplog):
    _hosting._logged.clear()
    with caplog.at_level("ERROR", logger="childstat"):
        _hosting._log_once(hosted({"auth": without(AUTH, "client_secret"), "childstat": GOOD_SECRETS["childstat"]}))
    assert [r.getMessage() for r in caplog.records] == [
        "hosted configuration broken, serving no data: [auth] has no client_secret"
    ]


# --- the claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "refusal"),
    [
        ({"email": "a@tiny.gov.uk"}, None),  # no email_verified claim at all (Entra ID): accepted
        ({"email": "a@tiny.gov.uk", "email_verified": True}, None),
        ({"email": "a@tiny.gov.uk", "email_verified": "true"}, None),  # some providers send text
        ({"email": "a@tiny.gov.uk", "email_verified": False}, "email_not_verified"),
        ({"email": "a@tiny.gov.uk", "email_verified": "false"}, "email_not_verified"),
        ({"email": "a@tiny.gov.uk", "email_verified": None}, "email_not_verified"),
        ({"sub": "12345"}, "no_email"),
    ],
)
def test_email_verified_is_honoured_when_sent(claims, refusal):
    assert claim_refusal(claims, hosted()) == refusal


def test_allowed_domains_and_issuers():
    config = hosted(allowed_email_domains=["tiny.gov.uk"], allowed_issuers=["https://login.tiny.gov.uk/"])
    ok = {"email": "a@Tiny.GOV.uk", "iss": "https://login.tiny.gov.uk"}
    assert claim_refusal(ok, config) is None
    assert claim_refusal(ok | {"email": "a@tiny.gov.uk.evil.org"}, config) == "email_domain_not_allowed"
    assert claim_refusal(ok | {"email": "a@sub.tiny.gov.uk"}, config) == "email_domain_not_allowed"
    assert claim_refusal(ok | {"iss": "https://accounts.google.com"}, config) == "issuer_not_allowed"
    assert claim_refusal({"email": "a@tiny.gov.uk"}, config) == "issuer_not_allowed"  # no iss: not accepted


def test_scope_from_user_needs_the_ids_its_role_is_scoped_by():
    users = {
        "tm@x.gov.uk": {"role": "team_manager"},
        "tm2@x.gov.uk": {"role": "team_manager", "team_id": "  "},
        "sw@x.gov.uk": {"role": "social_worker", "worker_id": "W1"},
        "sw2@x.gov.uk": {"role": "social_worker", "worker_id": "W1", "team_id": "T1"},
        "head@x.gov.uk": {"role": "head_of_service"},
    }
    assert scope_from_user("tm@x.gov.uk", users) is None
    assert scope_from_user("tm2@x.gov.uk", users) is None
    assert scope_from_user("sw@x.gov.uk", users) is None
    assert scope_from_user("SW2@X.gov.uk", users) == Scope("social_worker", "SW2@X.gov.uk", "W1", "T1")
    assert scope_from_user("head@x.gov.uk", users) == Scope("head_of_service", "head@x.gov.uk")


# --- the app -------------------------------------------------------------------------------------


def assert_no_data(at: AppTest) -> None:
    assert not at.exception
    shown = everything_shown(at)
    assert "Tiny Test Borough" not in shown and "C1" not in shown and "Local mode" not in shown
    assert not at.metric and not at.dataframe and not at.sidebar.markdown


def assert_broken_page(at: AppTest, reason: str) -> None:
    assert_no_data(at)
    assert [t.value for t in at.title] == ["ChildStat"]
    assert any("hosted configuration is broken" in e.value for e in at.error)
    assert any(reason in m.value for m in at.markdown), [m.value for m in at.markdown]


def app_with_secrets_file(data, secrets: Path, monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("CHILDSTAT_DATA", str(data))
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    with streamlit_secrets_file(secrets):
        at.run()
    return at


def test_a_duplicate_key_in_secrets_toml_serves_no_data_and_never_local_mode(tiny_dir, monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(DUPLICATE_KEY_SECRETS)
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    at = app_with_secrets_file(tiny_dir, secrets, monkeypatch, tmp_path)
    assert_broken_page(at, "the secrets file cannot be read (Cannot overwrite a value")
    for page in ("pages/home.py", "pages/caseload.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)  # no page of the app is even in the navigation


def test_a_duplicate_key_with_the_mode_left_local_serves_no_data_either(tiny_dir, monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(DUPLICATE_KEY_SECRETS)
    at = app_with_secrets_file(tiny_dir, secrets, monkeypatch, tmp_path)
    assert_broken_page(at, "cannot tell whether sign-in was meant to be on")


def test_hosted_mode_without_any_secrets_serves_no_data(tiny_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    at = app_with_secrets_file(tiny_dir, tmp_path / "no-such-secrets.toml", monkeypatch, tmp_path)
    assert_broken_page(at, "secrets.toml has no [auth] section")
    assert any("secrets.toml has no role map" in m.value for m in at.markdown)
    assert any("there is no audit key" in m.value for m in at.markdown)


def test_an_unknown_mode_serves_no_data(tiny_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted-please")
    at = app_with_secrets_file(tiny_dir, tmp_path / "no-such-secrets.toml", monkeypatch, tmp_path)
    assert_broken_page(at, "CHILDSTAT_MODE is 'hosted-please'")


def test_an_unknown_role_in_the_role_map_serves_no_data(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(
        tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", users=USERS | {"x@tiny.gov.uk": {"role": "boss"}}
    )
    assert_broken_page(at, "role map entry 5 has role 'boss'")


def test_local_mode_is_explicit(tiny_dir, monkeypatch, tmp_path, settings_file):
    settings_file('[hosting]\nmode = "local"\n')
    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    with streamlit_secrets_file(tmp_path / "no-such-secrets.toml"):
        at.run()
    assert not at.exception
    assert any("Local mode" in c.value for c in at.sidebar.caption)
    assert at.metric


def assert_no_access(at: AppTest, reason: str) -> None:
    assert_no_data(at)
    assert any(reason in w.value for w in at.warning), [w.value for w in at.warning]


def test_a_team_manager_without_a_team_gets_no_access_not_council_figures(tiny_dir, monkeypatch, tmp_path):
    users = USERS | {"manager@tiny.gov.uk": {"role": "team_manager", "worker_id": "W2"}}
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", users=users)
    assert_no_access(at, "but this account's ChildStat role is incomplete")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/home.py")


def test_an_unverified_email_gets_no_access(tiny_dir, monkeypatch, tmp_path):
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", email_verified=False)
    assert_no_access(at, "your identity provider says this email address is not verified")


def test_a_disallowed_domain_gets_no_access(tiny_dir, monkeypatch, tmp_path, settings_file):
    settings_file('[hosting]\nallowed_email_domains = ["council.gov.uk"]\n')
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk")
    assert_no_access(at, "ChildStat does not accept accounts from this email domain")


def test_a_disallowed_issuer_gets_no_access_and_an_allowed_one_gets_in(tiny_dir, monkeypatch, tmp_path, settings_file):
    settings_file('[hosting]\nallowed_issuers = ["https://login.tiny.gov.uk"]\n')
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", iss="https://evil.example")
    assert_no_access(at, "ChildStat does not accept sign-ins from this identity provider")
    at = hosted_app(tiny_dir, monkeypatch, tmp_path, "manager@tiny.gov.uk", iss="https://login.tiny.gov.uk")
    assert not at.exception and not at.warning
    assert any("Signed in as **manager@tiny.gov.uk**" in c.value for c in at.sidebar.caption)


# --- local mode on loopback ----------------------------------------------------------------------


def test_config_toml_keeps_local_mode_on_loopback():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert server["maxUploadSize"] == 50
    assert server["allowedHosts"] == ["localhost", "127.0.0.1"]
    assert server["enableCORS"] is True
    assert server["enableXsrfProtection"] is True
    assert server["corsAllowedOrigins"] == []
