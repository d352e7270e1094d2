"""Who is calling, and may they: FastAPI dependencies for bearer tokens, session cookies, roles and CSRF.

Two ways to be signed in:
- **API clients** send `Authorization: Bearer <token>` (a token from `POST /api/v1/auth/token`).
  Browsers never attach that header by themselves, so token requests need no CSRF check.
- **Browsers** carry the `trendloom_session` cookie (HttpOnly, SameSite=Lax) set by `login_response`.
  Every unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must also send the
  session's CSRF token, as the `X-CSRF-Token` header (htmx: `hx-headers`) or as a `csrf_token` form
  field; otherwise it is refused with 403. A bearer token wins when both are present.

How the pages (`app/web/`) use this:

```python
from app.api.auth import (CurrentAuth, CurrentUser, OptionalAuth, login_response, logout_response,
                          require_role, CSRF_FIELD)
from app.services import accounts

@router.post("/login")                         # no session yet: Origin/Referer checked instead (account_pages)
def login(request: Request, session: SessionDep, ws: WorkspaceDep, login: Annotated[str, Form()],
          password: Annotated[str, Form()]):
    user = accounts.sign_in(session, ws.login_limiter, login, password,  # 401 when wrong, 429 after
                            client=request.client.host if request.client else None)  # too many failures
    return login_response(session, ws.settings, user, redirect_to="/")

@router.post("/logout")                        # CSRF-checked like every cookie POST
def logout(request: Request, session: SessionDep, auth: CurrentAuth):
    return logout_response(session, request, redirect_to="/login")

@router.get("/buyer/feed")
def page(auth: OptionalAuth, ...):             # None when not signed in: redirect to /login yourself
    ...  # render forms with <input type="hidden" name="{{ CSRF_FIELD }}" value="{{ auth.csrf_token }}">

@router.post("/merchandiser/designs/{id}/publish", dependencies=[Depends(require_role("merchandiser"))])
```

`require_role("merchandiser")` lets merchandisers and admins through and answers 403 to everyone
else (401 when not signed in). `buyer_scope` and `factory_scope` turn a signed-in user into the one
buyer or factory they act for: another buyer's or factory's id answers 404, exactly as an id that
does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.deps import SessionDep
from app.errors import Forbidden, Invalid, NotFound, Unauthenticated
from app.models import User, utcnow
from app.services import accounts
from app.settings import Settings

SESSION_COOKIE = "trendloom_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PAGE_TOKEN = "pt"  # the query parameter of the storefront's own links (`page_token`)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="the web pages' session")


@dataclass(frozen=True)
class Auth:
    """A signed-in caller: the user, how they proved it, and (for a browser) the session's CSRF token."""

    user: User
    via: Literal["token", "cookie"]
    csrf_token: str | None = None  # put it in every form of a page; None for bearer tokens


def _resolve(session: SessionDep, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
             sid: Annotated[str | None, Depends(_cookie)]) -> Auth | None:
    """Look the credentials up (a plain def: database work runs in the thread pool)."""
    now = utcnow()
    if bearer is not None:  # a bad token is an error, never a silent fall back to the cookie
        return Auth(accounts.user_for_token(session, bearer.credentials, now), "token")
    if sid:
        try:
            row = accounts.session_for(session, sid, now)
        except Unauthenticated:
            return None  # an expired cookie is the same as none: the caller may sign in again
        return Auth(accounts.get_user(session, row.user_id), "cookie", row.csrf_token)
    return None


async def _optional_auth(request: Request, auth: Annotated[Auth | None, Depends(_resolve)]) -> Auth | None:
    """The caller, or None when anonymous; an unsafe cookie request without the session's CSRF token is 403."""
    if auth is not None and auth.via == "cookie" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
            value = (await request.form()).get(CSRF_FIELD)  # cached by Starlette: handlers read it again
            sent = value if isinstance(value, str) else None
        if not sent or not secrets.compare_digest(sent.encode(), (auth.csrf_token or "").encode()):
            raise Forbidden("missing or wrong CSRF token: reload the page and try again")
    return auth


def _required_auth(auth: Annotated[Auth | None, Depends(_optional_auth)]) -> Auth:
    if auth is None:
        raise Unauthenticated("sign in first: send a bearer token or the session cookie")
    return auth


def _current_user(auth: Annotated[Auth, Depends(_required_auth)]) -> User:
    return auth.user


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
OptionalAuth = Annotated[Auth | None, Depends(_optional_auth)]
CurrentAuth = Annotated[Auth, Depends(_required_auth)]
CurrentUser = Annotated[User, Depends(_current_user)]


def is_staff(user: User) -> bool:
    """Merchandisers and admins: they review drafts and read what is internal to trendloom, such as a
    design's note (which factories can make it or were offered it, its odds of winning)."""
    return user.role in ("merchandiser", "admin")


def viewer(user: User) -> Literal["staff", "buyer", "factory"]:
    """Who a design is shown to (`DesignOut.of`): staff (merchandisers, admins), a buyer or a factory."""
    return "staff" if is_staff(user) else ("factory" if user.role == "factory" else "buyer")


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency that returns the signed-in user if their role is one of `roles` (admins always pass)."""
    allowed = frozenset(roles) | {"admin"}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"this needs the {' or '.join(sorted(allowed))} role; you are signed in as {user.role}")
        return user

    return check


MerchandiserUser = Annotated[User, Depends(require_role("merchandiser"))]
BuyerUser = Annotated[User, Depends(require_role("buyer"))]
FactoryUser = Annotated[User, Depends(require_role("factory"))]
AdminUser = Annotated[User, Depends(require_role())]


def buyer_scope(user: User, buyer_id: int | None) -> int:
    """The buyer `user` acts for. A buyer user acts only for their own buyer (another buyer's id is
    404, as if it did not exist); an admin names the buyer. Use with `BuyerUser`."""
    if user.role == "admin":
        if buyer_id is None:
            raise Invalid("an admin acting for a buyer must name buyer_id", field="buyer_id")
        return buyer_id
    assert user.buyer_id is not None  # a CHECK constraint ties buyer users to a buyer
    if buyer_id is not None and buyer_id != user.buyer_id:
        raise NotFound(f"buyer {buyer_id} not found")
    return user.buyer_id


def factory_scope(user: User, factory_id: str) -> str:
    """`factory_id` if `user` may act for that factory (its own user, or an admin); 404 otherwise."""
    if user.role != "admin" and factory_id != user.factory_id:
        raise NotFound(f"factory {factory_id} not found")
    return factory_id


def page_token(csrf_token: str | None) -> str:
    """The token the storefront's own links and forms carry (`?pt=`): a page that shows designs records
    views and clicks only for a request carrying it, so a link from another site (which cannot know it)
    records nothing. Derived from the session's CSRF token, so it dies with the session; a hash, so the
    CSRF token itself never appears in a URL."""
    if not csrf_token:
        return ""
    return hashlib.sha256(f"trendloom-page:{csrf_token}".encode()).hexdigest()[:32]


def has_page_token(auth: Auth, sent: str | None) -> bool:
    """Whether a browser request carries its session's page token (`page_token`)."""
    own = page_token(auth.csrf_token) if auth.via == "cookie" else ""
    return bool(own and sent) and secrets.compare_digest(str(sent).encode(), own.encode())


def login_response(session: Session, settings: Settings, user: User, *, redirect_to: str = "/") -> RedirectResponse:
    """Start a browser session for `user` (already authenticated) and redirect (303) with its cookie set.
    A redirect to the storefront carries the new session's page token, so the first page counts."""
    ttl = timedelta(hours=settings.session_ttl_hours)
    sid, row = accounts.create_session(session, user, utcnow(), ttl)
    if redirect_to == "/shop" or redirect_to.startswith(("/shop/", "/shop?")):
        redirect_to += ("&" if "?" in redirect_to else "?") + f"{PAGE_TOKEN}={page_token(row.csrf_token)}"
    response = RedirectResponse(redirect_to, status_code=303)
    response.set_cookie(SESSION_COOKIE, sid, max_age=int(ttl.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=settings.secure_cookies)
    return response


def logout_response(session: Session, request: Request, *, redirect_to: str = "/") -> RedirectResponse:
    """End the browser's session (if any) and redirect (303) with the cookie cleared."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        accounts.delete_session(session, sid)
    response = RedirectResponse(redirect_to, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
