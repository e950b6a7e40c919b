"""Which mode ChildStat runs in, and whether a hosted instance's configuration is whole.

The mode is explicit: CHILDSTAT_MODE (`local` or `hosted`), else settings `[hosting] mode`
(default "local"). Anything else is an error, and an error is treated as hosted with a broken
configuration: no data at all, never local mode.

A hosted instance needs, in `.streamlit/secrets.toml`: an `[auth]` section as Streamlit's
st.login needs it (redirect_uri ending in /oauth2callback, cookie_secret, and client_id,
client_secret and server_metadata_url for the provider, or for each named provider
`[auth.NAME]`), a role map (`[childstat.users."email"]`, each entry with a known role), and an
audit key (`[childstat] audit_key` or CHILDSTAT_AUDIT_KEY). If any of that is missing or
malformed, or the secrets file cannot be read at all, `hosting()` says why in `problems` and
the app shows only that (the reasons name settings, never a secret value, an address or an ID).

A local instance whose secrets.toml has an `[auth]` section, or cannot be read, is broken
too: someone meant sign-in to be on, and serving everything to whoever can reach the address
is the one outcome to avoid.

`claim_refusal` and `role_refusal` say why a signed-in user gets no access.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pages._audit import KEY_ENV, MIN_KEY_LENGTH, configured_key
from queries.access import ROLES
from queries.settings import SettingsError, setting

log = logging.getLogger("childstat")
MODES = ("local", "hosted")
MODE_ENV = "CHILDSTAT_MODE"
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
NOT_PROVIDERS = {"client_kwargs"}  # tables Streamlit allows inside [auth] that are not named providers
ROLE_IDS = {"team_manager": ("team_id",), "social_worker": ("worker_id", "team_id")}
USERS_TABLE = '[childstat.users."…"]'

# Why a signed-in user has no access, as the no-access page words it ("…, but <reason>.").
REFUSALS = {
    "no_email": "your identity provider did not send an email address",
    "email_not_verified": "your identity provider says this email address is not verified",
    "email_domain_not_allowed": "ChildStat does not accept accounts from this email domain",
    "issuer_not_allowed": "ChildStat does not accept sign-ins from this identity provider",
    "not_in_role_map": "this account has no ChildStat role yet",
    "role_entry_incomplete": "this account's ChildStat role is incomplete (a team manager needs a team, "
    "a social worker a worker and a team)",
}
_logged: set[tuple[str, ...]] = set()


@dataclass(frozen=True)
class Hosting:
    """The mode and, when hosted, everything sign-in needs; `problems` non-empty means serve nothing."""

    mode: str
    problems: tuple[str, ...] = ()
    users: Mapping[str, dict] = field(default_factory=dict)  # role map, by lower-case email
    providers: tuple[str, ...] = ()  # named [auth.NAME] providers; empty for a single unnamed one
    allowed_email_domains: tuple[str, ...] = ()
    allowed_issuers: tuple[str, ...] = ()
    audit_key: bytes | None = None
    notes: tuple[str, ...] = ()  # worth a warning in the server log, not fatal

    @property
    def hosted(self) -> bool:
        return self.mode == "hosted"

    @property
    def broken(self) -> bool:
        return bool(self.problems)


def requested_mode(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """("local" | "hosted", why the mode is in error or None); an error always means hosted."""
    environ = os.environ if environ is None else environ
    raw, source = environ.get(MODE_ENV, "").strip(), MODE_ENV
    if not raw:
        source = "settings [hosting] mode"
        try:
            raw = setting("mode")
        except SettingsError:
            return "hosted", "the settings file cannot be read, so ChildStat cannot tell whether it is hosted"
        raw = raw.strip() if isinstance(raw, str) else ""
    if raw.lower() in MODES:
        return raw.lower(), None
    return "hosted", f'{source} is {raw[:20]!r}; it must be "local" or "hosted"'


def read_secrets() -> tuple[dict | None, str | None]:
    """Streamlit's secrets as a plain dict, or (None, None) if there is no secrets file, or
    (None, why) if one cannot be read (the reason quotes no value from it)."""
    import streamlit as st

    try:
        return st.secrets.to_dict(), None
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError: missing or unparseable
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return None, None
        detail = getattr(exc, "exec_kwargs", {}).get("error") or type(exc).__name__
        return None, f"the secrets file cannot be read ({detail})"
    except Exception as exc:  # noqa: BLE001 - any other failure reading secrets is a broken configuration
        return None, f"the secrets file cannot be read ({type(exc).__name__})"


def _string_list(value, name: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"settings [hosting] {name} must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _check_auth(auth, problems: list[str]) -> tuple[str, ...]:
    """The [auth] section as st.login needs it; returns the named providers."""
    if not isinstance(auth, Mapping):
        problems.append("secrets.toml has no [auth] section (sign-in through your identity provider)")
        return ()
    redirect = auth.get("redirect_uri")
    if not isinstance(redirect, str) or not redirect.strip():
        problems.append("[auth] has no redirect_uri")
    elif not redirect.rstrip().endswith("/oauth2callback"):
        problems.append("[auth] redirect_uri must end with /oauth2callback")
    cookie = auth.get("cookie_secret")
    if not isinstance(cookie, str) or not cookie.strip():
        problems.append("[auth] has no cookie_secret")
    providers = tuple(name for name, value in auth.items() if isinstance(value, Mapping) and name not in NOT_PROVIDERS)
    for name in providers:
        if "_" in name:
            problems.append(f"[auth.{name}]: a provider's name may not contain an underscore")
        missing = [k for k in PROVIDER_KEYS if not _text(auth[name].get(k))]
        if missing:
            problems.append(f"[auth.{name}] has no {', '.join(missing)}")
    if not providers:
        missing = [k for k in PROVIDER_KEYS if not _text(auth.get(k))]
        if missing:
            problems.append(f"[auth] has no {', '.join(missing)}")
    return providers


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_users(childstat, problems: list[str], notes: list[str]) -> dict[str, dict]:
    """The role map by lower-case email. Entries are named by position only (no addresses in logs)."""
    users = childstat.get("users") if isinstance(childstat, Mapping) else None
    if not isinstance(users, Mapping) or not users:
        problems.append(f"secrets.toml has no role map ({USERS_TABLE} entries)")
        return {}
    by_email: dict[str, dict] = {}
    for number, (email, entry) in enumerate(users.items(), start=1):
        where = f"role map entry {number}"
        if not isinstance(email, str) or "@" not in email:
            problems.append(f"{where} is not under an email address")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where} is not a table with a role")
            continue
        role = entry.get("role")
        if role not in ROLES:
            shown = f"role {role[:30]!r}" if isinstance(role, str) else "no role"
            problems.append(f"{where} has {shown}; it must be one of {', '.join(ROLES)}")
            continue
        bad = [k for k in ("team_id", "worker_id") if k in entry and not _text(entry[k])]
        if bad:
            problems.append(f"{where}: {' and '.join(bad)} must be non-empty text")
            continue
        lacking = [k for k in ROLE_IDS.get(role, ()) if k not in entry]
        if lacking:
            notes.append(f"{where} ({role}) has no {' or '.join(lacking)}: that account gets no access")
        key = email.strip().lower()
        if key in by_email:
            problems.append(f"{where} repeats an address already in the role map (addresses are not case-sensitive)")
            continue
        by_email[key] = dict(entry)
    return by_email


def check(
    mode: str,
    mode_problem: str | None,
    secrets_dict: Mapping | None,
    secrets_problem: str | None,
    allowed_email_domains=(),
    allowed_issuers=(),
) -> Hosting:
    """Validate a configuration (pure: everything it reads is passed in, except CHILDSTAT_AUDIT_KEY)."""
    problems: list[str] = [mode_problem] if mode_problem else []
    notes: list[str] = []
    secrets_dict = secrets_dict or {}
    key = configured_key(secrets_dict)
    if mode == "local" and not mode_problem:
        if secrets_problem:
            problems.append(f"{secrets_problem}, so ChildStat cannot tell whether sign-in was meant to be on")
        elif "auth" in secrets_dict:
            problems.append(
                'secrets.toml has an [auth] section but the mode is "local": set [hosting] mode = "hosted" '
                "in the settings (or CHILDSTAT_MODE=hosted), or remove [auth]"
            )
        return Hosting("local", tuple(problems), audit_key=key)
    if secrets_problem:
        problems.append(secrets_problem)
    providers = _check_auth(secrets_dict.get("auth"), problems)
    users = _check_users(secrets_dict.get("childstat"), problems, notes)
    if key is None:
        problems.append(f"there is no audit key ([childstat] audit_key in secrets.toml, or {KEY_ENV})")
    elif len(key) < MIN_KEY_LENGTH:
        problems.append(f"the audit key is shorter than {MIN_KEY_LENGTH} characters")
    domains = _string_list(allowed_email_domains, "allowed_email_domains", problems)
    issuers = _string_list(allowed_issuers, "allowed_issuers", problems)
    return Hosting(
        "hosted",
        tuple(problems),
        users=users,
        providers=providers,
        allowed_email_domains=tuple(d.lower().lstrip("@") for d in domains),
        allowed_issuers=tuple(i.rstrip("/") for i in issuers),
        audit_key=key,
        notes=tuple(notes),
    )


def hosting() -> Hosting:
    """This instance's configuration, read afresh (environment, settings, Streamlit's secrets)."""
    mode, mode_problem = requested_mode()
    secrets_dict, secrets_problem = read_secrets()
    try:
        domains, issuers = setting("allowed_email_domains"), setting("allowed_issuers")
    except SettingsError:
        domains, issuers = (), ()  # already a mode problem: the settings file cannot be read
    config = check(mode, mode_problem, secrets_dict, secrets_problem, domains, issuers)
    _log_once(config)
    return config


def _log_once(config: Hosting) -> None:
    said = (config.mode, *config.problems, *config.notes)
    if said in _logged:
        return
    _logged.add(said)
    for problem in config.problems:
        log.error("hosted configuration broken, serving no data: %s", problem)
    for note in config.notes:
        log.warning("role map: %s", note)


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def claim_refusal(claims: Mapping, config: Hosting) -> str | None:
    """Why these identity-token claims get no access (a REFUSALS key), or None if they may go on.

    `email_verified` is honoured when the provider sends it (Google and others do; Entra ID does
    not); `iss` is the token's issuer, which Streamlit copies into st.user with every other claim.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return "no_email"
    if "email_verified" in claims and not _true(claims["email_verified"]):
        return "email_not_verified"
    if config.allowed_email_domains and email.rsplit("@", 1)[1].strip().lower() not in config.allowed_email_domains:
        return "email_domain_not_allowed"
    if config.allowed_issuers:
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer.rstrip("/") not in config.allowed_issuers:
            return "issuer_not_allowed"
    return None


def role_refusal(email: str | None, users: Mapping[str, dict]) -> str:
    """Why scope_from_user gave no scope for this (claim-checked) address."""
    entry = users.get(email.strip().lower()) if email else None
    return "not_in_role_map" if entry is None else "role_entry_incomplete"
