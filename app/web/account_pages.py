"""Signing in and out, the language switch, and the front door that sends each role to its pages.

The sign-in form cannot carry a session's CSRF token (there is no session yet), yet a forged one is an
attack: a page on another site that posts the attacker's login and password to `POST /login` signs the
victim's browser into the attacker's account, and the victim's favourites, inquiries and pre-orders then
go to the attacker's buyer ("login CSRF"). So `POST /login` only accepts a form posted from this site,
judged by the headers browsers set themselves and pages cannot forge (`same_origin`):

- `Origin` present: it must be this site's scheme, host and port. Every browser in use sends it on a
  form POST (Chrome, Edge, Safari, Firefox since 70); a cross-site or opaque one ("null") is refused.
- no `Origin`, `Referer` present: the Referer's scheme, host and port must be this site's.
- neither: refused as well. Only scripts and old browsers send neither, and an attacker's page can
  suppress the Referer (`Referrer-Policy: no-referrer`), so accepting it would reopen the hole for
  those browsers. Scripts sign in through `POST /api/v1/auth/token` (JSON, no cookie), which is not
  affected.

"This site" is the request's own URL, so a server behind a TLS-terminating proxy must be told the public
scheme and host (uvicorn's `--proxy-headers` with `--forwarded-allow-ips`, and the `Host` passed on);
otherwise every sign-in is refused as cross-site.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.api.auth import OptionalAuth, login_response, logout_response
from app.api.deps import SessionDep, WorkspaceDep
from app.errors import Invalid, TooManyAttempts, Unauthenticated
from app import lifecycle
from app.services import accounts, notices
from app.web.deps import HOME, AnyPage
from app.web.i18n import DEFAULT_LANGUAGE, LANG_COOKIE, LANGUAGES
from app.web.rendering import local_path, render, translator

router = APIRouter(include_in_schema=False)
LANG_COOKIE_AGE_S = 365 * 24 * 3600
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, default ports filled in; None for anything else
    (an opaque "null" origin, a relative or malformed URL)."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # e.g. a port that is not a number
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def same_origin(request: Request) -> bool:
    """Whether an unsafe request was sent by a page of this site: its `Origin`, else its `Referer`, names
    this request's own scheme, host and port. A request with neither is not (see the module docstring)."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    own = _origin(str(request.url))
    return sent is not None and own is not None and _origin(sent) == own


@router.get("/")
def front_door(auth: OptionalAuth) -> RedirectResponse:
    """Signed in: the home page of the user's role; otherwise the sign-in page."""
    return RedirectResponse(HOME[auth.user.role] if auth else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, auth: OptionalAuth, next: str = "") -> Response:
    if auth is not None:
        return RedirectResponse(local_path(next, HOME[auth.user.role]), status_code=303)
    return render(request, "login.html", None, next=local_path(next, ""), error=None, retry_after=0, login="")


@router.post("/login")
def login(request: Request, session: SessionDep, ws: WorkspaceDep, login: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=1024)], next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Check the password; on success start a session (cookie) and go to `next` or the role's home.

    Too many recent failures for the login or from this address answer 429 without checking it. A form
    not posted from this site answers 403 without checking anything (login CSRF; see the module docstring)."""
    if not same_origin(request):
        return render(request, "login.html", None, status_code=403, next=local_path(next, ""),
                      error="login.cross_site", retry_after=0, login="")
    try:
        user = accounts.sign_in(session, ws.login_limiter, login, password,
                                client=request.client.host if request.client else None)
    except Unauthenticated:  # answered on the page itself, with the login kept in the field
        return render(request, "login.html", None, status_code=401, next=local_path(next, ""), error="login.wrong",
                      retry_after=0, login=login)
    except TooManyAttempts as exc:
        response = render(request, "login.html", None, status_code=429, next=local_path(next, ""),
                          error="login.locked" if exc.scope == "login" else "login.locked_client",
                          retry_after=exc.retry_after_s, login=login)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    response = login_response(session, ws.settings, user, redirect_to=local_path(next, HOME[user.role]))
    if LANG_COOKIE not in request.cookies and user.language != DEFAULT_LANGUAGE:
        # the language this user picked on another browser (the switch stores it on the account)
        response.set_cookie(LANG_COOKIE, user.language, max_age=LANG_COOKIE_AGE_S, path="/", samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, auth: OptionalAuth) -> Response:
    """End the session (CSRF-checked like every signed-in form) and go back to the sign-in page."""
    return logout_response(session, request, redirect_to="/login")


@router.post("/language")
def switch_language(session: SessionDep, auth: OptionalAuth, lang: Annotated[str, Form(max_length=10)],
                    next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Remember the picked language in a cookie (and on the account when signed in); back to `next`."""
    if lang not in LANGUAGES:
        raise Invalid(f"unknown language {lang!r}; allowed: {', '.join(LANGUAGES)}", field="lang")
    if auth is not None:
        accounts.set_language(session, auth.user, lang)
    response = RedirectResponse(local_path(next, "/"), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE_S, path="/", samesite="lax")
    return response


@router.get("/notices")
def notice_inbox(request: Request, auth: AnyPage, session: SessionDep) -> Response:
    """The signed-in user's notices, newest first (opening the page marks them read)."""
    t, buyer = translator(request), auth.user.role == "buyer"
    items = []
    for row, design in notices.inbox(session, auth.user):
        name = t.design_name(design) if design is not None else ""
        if row.kind in ("inquiry", "want"):
            text = t(f"notice.{row.kind}", name=name)
        else:
            words = ((lifecycle.BUYER_DESIGN_WORDS if buyer else lifecycle.DESIGN_WORDS) if row.kind == "design"
                     else lifecycle.ORDER_WORDS)
            text = t("notice.moved", name=name, state=t(words[row.target]))
        href = None if design is None else (f"/shop/designs/{design.id}" if buyer else
                                            "/factory" if auth.user.role == "factory" else f"/merchandiser/designs/{design.id}")
        items.append((row, text, href))
    return render(request, "notices.html", auth, items=items)

