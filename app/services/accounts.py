"""Accounts: users with a role, password sign-in, API bearer tokens and browser sessions.

Passwords are hashed with argon2id (`argon2-cffi`, its RFC 9106 low-memory profile); the hash string
carries its own parameters and salt, and is upgraded on the next sign-in when the defaults change.

Tokens and session ids are 256-bit random secrets (`secrets.token_urlsafe(32)`). The database keeps
only their SHA-256: a leaked database (or backup) does not let anyone sign in, and a lookup is one
indexed equality. A slow password hash is not needed for secrets of that entropy, and would cost
every request tens of milliseconds.

Browser sessions are server-side rows rather than signed cookies, because:
- signing out, or removing a user, ends the session at once (a signed cookie stays valid until it
  expires, unless a revocation list is kept, which is a session table again);
- no signing key has to be generated, kept secret, shared between workers and rotated;
- the per-session CSRF token lives in the same row, so forms need no second cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from app.errors import Conflict, Invalid, NotFound, Unauthenticated
from app.models import (BUYER_KINDS, LANGUAGES, ROLES, ApiToken, Buyer, FactoryOrder, FactoryRow, PreOrder, User,
                        WebSession)
from app.services.login_limit import LoginLimiter

LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
MIN_PASSWORD, MAX_PASSWORD = 10, 1024
MIN_STRENGTH = 2  # zxcvbn's score 0-4: 2 is "somewhat guessable", safe from throttled online guessing
MAX_NAME = 200
# Unicode categories a shown name may not contain: controls (Cc), format characters (Cf: bidi overrides
# and isolates such as U+202E, zero-width spaces and joiners, the BOM), surrogates (Cs), line and
# paragraph separators. They let a name hide, reorder or fake the text around it on every page.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
TOKEN_PREFIX = "tl_"
_hasher = PasswordHasher()
# Verified against when the login is unknown, so a wrong login takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def secret_hash(secret: str) -> str:
    """SHA-256 hex of a random secret (token or session id): what the database stores instead of it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_login(login: str) -> str:
    """Logins are case-insensitive: stored and looked up stripped and lower-cased."""
    return login.strip().lower()


def check_password(password: str, login: str, *, name: str = "") -> None:
    """Invalid unless `password` has MIN_PASSWORD to MAX_PASSWORD characters, is not the login, is not
    one character repeated and is not easily guessed (zxcvbn score >= MIN_STRENGTH, with the login and
    the display name as words an attacker knows)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password")
    if password.strip().lower() == normalise_login(login):
        raise Invalid("a password may not be the login", field="password")
    if len(set(password)) == 1:
        raise Invalid("a password may not be one character repeated", field="password")
    # zxcvbn's matching grows quickly with length; the first 100 characters decide whether it is guessable
    result = zxcvbn(password[:100], user_inputs=[w for w in (normalise_login(login), name) if w])
    if result["score"] < MIN_STRENGTH:
        hint = result["feedback"].get("warning") or "it is easy to guess"
        raise Invalid(f"the password is too easy to guess ({hint.rstrip('.')}): add words or characters that are "
                      "not a name, a common password or a pattern", field="password")


def hidden_character(text: str, allowed: str = "") -> str | None:
    """The first control, bidi or zero-width character of `text` (HIDDEN_CATEGORIES) not in `allowed`."""
    return next((c for c in text if c not in allowed and unicodedata.category(c) in HIDDEN_CATEGORIES), None)


def check_name(name: str, field: str = "display_name") -> str:
    """`name` stripped, or Invalid when it is longer than MAX_NAME or holds a control, bidi or zero-width
    character (HIDDEN_CATEGORIES)."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise Invalid(f"a name has at most {MAX_NAME} characters", field=field)
    bad = hidden_character(name)
    if bad is not None:
        raise Invalid(f"a name may not contain control, bidi or zero-width characters (found U+{ord(bad):04X})",
                      field=field)
    return name


def create_user(session: Session, login: str, password: str, role: str, *, display_name: str = "",
                language: str = "en", buyer_id: int | None = None, factory_id: str | None = None,
                buyer_kind: str = "shop") -> User:
    """Create a user with a hashed password.

    A buyer user acts for one buyer: `buyer_id` links an existing buyer, otherwise a new buyer of
    `buyer_kind` named after the user is created. A factory user needs the `factory_id` of a factory
    in the registry. Other roles link to neither.
    """
    login = normalise_login(login)
    if not LOGIN_RE.fullmatch(login):
        raise Invalid("a login has 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit",
                      field="login")
    name = check_name(display_name) or login
    check_password(password, login, name=name)
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; allowed: {', '.join(ROLES)}", field="role")
    if language not in LANGUAGES:
        raise Invalid(f"unknown language {language!r}; allowed: {', '.join(LANGUAGES)}", field="language")
    if buyer_id is not None and role != "buyer":
        raise Invalid("only a buyer user is linked to a buyer", field="buyer_id")
    if factory_id is not None and role != "factory":
        raise Invalid("only a factory user is linked to a factory", field="factory_id")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Conflict(f"login {login!r} is taken")
    if role == "buyer":
        if buyer_id is None:
            if buyer_kind not in BUYER_KINDS:
                raise Invalid(f"unknown buyer kind {buyer_kind!r}; allowed: {', '.join(BUYER_KINDS)}", field="buyer_kind")
            buyer = Buyer(name=name, kind=buyer_kind)
            session.add(buyer)
            session.flush()
            buyer_id = buyer.id
        elif session.get(Buyer, buyer_id) is None:
            raise NotFound(f"buyer {buyer_id} not found")
    if role == "factory":
        if factory_id is None:
            raise Invalid("a factory user needs the factory_id of a registered factory", field="factory_id")
        if session.get(FactoryRow, factory_id) is None:
            raise NotFound(f"factory {factory_id} not found")
    user = User(login=login, password_hash=_hasher.hash(password), role=role, display_name=name,
                language=language, buyer_id=buyer_id, factory_id=factory_id)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent sign-up took the login, or the buyer/factory has a user already
        raise Conflict("that login, buyer or factory already has a user") from None
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def authenticate(session: Session, login: str, password: str) -> User:
    """The user whose login and password these are; Unauthenticated otherwise (one message for both
    a wrong login and a wrong password, and the same time taken, so logins cannot be probed)."""
    user = session.scalar(select(User).where(User.login == normalise_login(login)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong login or password") from None
    if user is None:
        raise Unauthenticated("wrong login or password")
    if user.disabled_at is not None:
        raise Unauthenticated("this account is disabled: ask an admin to enable it")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def sign_in(session: Session, limiter: LoginLimiter, login: str, password: str, *, client: str | None,
            now: float | None = None) -> User:
    """`authenticate`, guarded against password guessing (see `app.services.login_limit`): raises
    TooManyAttempts, without checking the password, while the login or the client address (None when
    unknown) has too many recent failures; a success clears the login's failures. `now` is
    `time.monotonic()` unless given."""
    now = time.monotonic() if now is None else now
    key = normalise_login(login)
    limiter.begin(key, client, now)  # counted as a failure from here on...
    user = authenticate(session, login, password)
    limiter.succeeded(key, client, now)  # ...until it turns out right
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the password and end every session and token of the user (they were signed in with the old one)."""
    check_password(password, user.login, name=user.display_name)
    user.password_hash = _hasher.hash(password)
    revoke_all(session, user)


def user_by_login(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        raise NotFound(f"no user with login {normalise_login(login)!r}")
    return user


def revoke_all(session: Session, user: User) -> int:
    """End every browser session and API token of `user` at once (their next request is 401); how many."""
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount
    ended += session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    return int(ended)


def disable(session: Session, user: User, now: datetime) -> int:
    """The user can no longer sign in, and every session and token ends now; returns how many ended.
    Disabling a disabled user changes nothing."""
    if user.disabled_at is None:
        user.disabled_at = now
    return revoke_all(session, user)


def enable(session: Session, user: User) -> None:
    """The user may sign in again (with the password they had)."""
    user.disabled_at = None


def reset_password(session: Session, user: User) -> str:
    """A new random password for `user` (returned once, to be handed over), every session and token ended."""
    password = secrets.token_urlsafe(12)  # 96 random bits, 16 characters
    set_password(session, user, password)
    return password


def set_language(session: Session, user: User, language: str) -> None:
    """Remember the language the user picked for the pages."""
    if language not in LANGUAGES:
        raise Invalid(f"unknown language {language!r}; allowed: {', '.join(LANGUAGES)}", field="language")
    user.language = language


def issue_token(session: Session, user: User, now: datetime, ttl: timedelta, name: str = "api") -> str:
    """A new bearer token for `user`, valid for `ttl`. The token is returned once; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=secret_hash(token), name=name[:100], created_at=now,
                         expires_at=now + ttl))
    session.flush()
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User:
    """The user a bearer token belongs to; Unauthenticated when it is unknown, revoked or expired."""
    user = session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == secret_hash(token), ApiToken.expires_at > now,
                                 User.disabled_at.is_(None)))
    if user is None:  # one query: every API request signs in this way
        raise Unauthenticated("invalid or expired token")
    return user


def revoke_token(session: Session, token: str) -> None:
    """Forget a bearer token (sign-out for API clients); unknown tokens are ignored."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == secret_hash(token)))


def create_session(session: Session, user: User, now: datetime, ttl: timedelta) -> tuple[str, WebSession]:
    """Sign a browser in: returns the session id for the cookie (shown once) and the row, whose
    `csrf_token` forms must send back. Expired sessions are cleaned up on the way."""
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    sid = secrets.token_urlsafe(32)
    row = WebSession(id_hash=secret_hash(sid), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    return sid, row


def session_for(session: Session, sid: str, now: datetime) -> WebSession:
    """The live session with this cookie id; Unauthenticated when it is unknown, ended or expired."""
    row = session.get(WebSession, secret_hash(sid))
    if row is None or row.expires_at <= now:
        raise Unauthenticated("not signed in, or the session has expired")
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        raise Unauthenticated("this account is disabled")
    return row


def delete_session(session: Session, sid: str) -> None:
    """Sign a browser out; unknown ids are ignored (signing out twice is fine)."""
    session.execute(delete(WebSession).where(WebSession.id_hash == secret_hash(sid)))


def seed_demo_accounts(session: Session) -> list[tuple[User, str]]:
    """One user per role with a fresh random password, for the demo: (user, password) pairs.

    The buyer user acts for the simulated buyer with the most pre-orders and the factory user for the
    factory with the most orders, so each front-end has something to show."""
    busiest_buyer = session.scalar(select(PreOrder.buyer_id).group_by(PreOrder.buyer_id)
                                   .order_by(func.count().desc(), PreOrder.buyer_id).limit(1))
    busiest_factory = session.scalar(select(FactoryOrder.factory_id).group_by(FactoryOrder.factory_id)
                                     .order_by(func.count().desc(), FactoryOrder.factory_id).limit(1))
    if busiest_factory is None:
        busiest_factory = session.scalar(select(FactoryRow.id).order_by(FactoryRow.id).limit(1))
    made = []
    for role, name in (("admin", "Admin"), ("merchandiser", "Merchandiser"), ("buyer", "Demo shop"),
                       ("factory", "Demo factory")):
        password = secrets.token_urlsafe(12)
        user = create_user(session, f"demo-{role}", password, role, display_name=name,
                           buyer_id=busiest_buyer if role == "buyer" else None,
                           factory_id=busiest_factory if role == "factory" else None)
        made.append((user, password))
    return made
