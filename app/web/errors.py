"""Errors on the web pages become pages: a sign-in redirect, an error page, or a flash message.

The API answers its errors as JSON (`app.errors.install_error_handlers`); the pages need the same
errors as something a person can act on. `install_page_error_handlers` wraps the API's handlers: a
request to a page path (`app.web.deps.is_page`) gets
- not signed in (401): a redirect to the sign-in page that comes back afterwards;
- a failed form POST (409 wrong state, 422 bad value, 403, 404): a redirect back to the page the form
  was on, with the reason as a flash message; the request's transaction has been rolled back;
- a failed GET: an error page with the API's status code and the reason, under the signed-in user's
  navigation.
A path nobody serves is a page's too, unless it is the API's (`app.web.deps.is_api`): an unknown address
typed into the browser gets the error page, not JSON. Every other request is answered by the API's
handler, unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.auth import SESSION_COOKIE, Auth
from app.errors import NotFound, TooManyRequests, Unauthenticated
from app.models import utcnow
from app.services import accounts
from app.web.deps import is_api, is_page
from app.web.i18n import DEFAULT_LANGUAGE, catalogue
from app.web.rendering import redirect, render

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


def _back(request: Request) -> str:
    """The page a form was posted from (its Referer on this site), else the signed-in home."""
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc and parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _reason(exc: Exception) -> str:
    if isinstance(exc, RequestValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors())
    return str(exc)


def signed_in(request: Request) -> Auth | None:
    """The browser's signed-in user (from the session cookie), for the navigation of an error page; None
    when there is none or it has expired. Read-only: an error page changes nothing."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    with request.app.state.workspace.sessions() as session:
        try:
            row = accounts.session_for(session, sid, utcnow())
            return Auth(accounts.get_user(session, row.user_id), "cookie", row.csrf_token)
        except (Unauthenticated, NotFound):
            return None


def page_error(request: Request, exc: Exception, status_code: int, auth: Auth | None = None) -> Response:
    """The page answer to `exc`, raised while serving a page, that the API answers with `status_code`
    (over a rate limit, with the API's Retry-After); `auth` gives the error page its navigation."""
    response = _page_error(request, exc, status_code, auth)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _page_error(request: Request, exc: Exception, status_code: int, auth: Auth | None) -> Response:
    if isinstance(exc, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, "/login" + (f"?next={quote(target)}" if request.method == "GET" else ""))
    if request.method == "POST":
        return redirect(request, _back(request), error="flash.failed", detail=_reason(exc))
    key = f"error.code.{status_code}"
    return render(request, "error.html", auth, status_code=status_code, code=status_code, reason=_reason(exc),
                  message_key=key if key in catalogue(DEFAULT_LANGUAGE) else "error.generic")


def install_page_error_handlers(app: FastAPI) -> None:
    """Answer errors on page paths with pages; leave every other path to the handler installed before.

    Every exception class with a handler at this point is wrapped (HTTP errors, request validation, the
    API's application, domain and model errors); the API's handler still decides the status code."""
    handlers: dict[type[Exception], Handler] = {
        k: v for k, v in app.exception_handlers.items()
        if isinstance(k, type) and issubclass(k, Exception) and not issubclass(k, WebSocketRequestValidationError)}
    for exc_type, api_handler in handlers.items():

        async def handler(request: Request, exc: Exception, api_handler: Handler = api_handler) -> Response:
            result = api_handler(request, exc)
            response = await result if isinstance(result, Awaitable) else result
            path = request.url.path
            if not (is_page(path) or (response.status_code == 404 and not is_api(path))):
                return response
            auth = await run_in_threadpool(signed_in, request) if request.method == "GET" else None
            return page_error(request, exc, response.status_code, auth)

        app.add_exception_handler(exc_type, handler)
