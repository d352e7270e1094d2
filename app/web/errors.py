"""Errors on the web pages become pages: a sign-in redirect, an error page, or a flash message.

The API answers its errors as JSON (`app.errors.install_error_handlers`); the pages need the same
errors as something a person can act on. `install_page_error_handlers` wraps the API's handlers: a
request to a page path (`app.web.deps.is_page`) gets
- not signed in (401): a redirect to the sign-in page that comes back afterwards;
- a failed form POST (409 wrong state, 422 bad value, 403, 404): a redirect back to the page the form
  was on, with the reason as a flash message; the request's transaction has been rolled back;
- a failed GET: an error page with the status code and the reason.
Every other request is answered by the API's handler, unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from generation.errors import GenerationError
from matching.errors import MatchingError

from app.errors import AppError, Unauthenticated
from app.web.deps import is_page
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


def _status(exc: Exception) -> int:
    if isinstance(exc, AppError):
        return exc.status_code
    return 422  # domain errors (GenerationError, MatchingError) and invalid forms


def _reason(exc: Exception) -> str:
    if isinstance(exc, RequestValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors())
    return str(exc)


def page_error(request: Request, exc: Exception) -> Response:
    """The page answer to `exc` raised while serving a page."""
    if isinstance(exc, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, "/login" + (f"?next={quote(target)}" if request.method == "GET" else ""))
    if request.method == "POST":
        return redirect(request, _back(request), error="flash.failed", detail=_reason(exc))
    code = _status(exc)
    key = f"error.code.{code}"
    return render(request, "error.html", None, status_code=code, code=code, reason=_reason(exc),
                  message_key=key if key in catalogue(DEFAULT_LANGUAGE) else "error.generic")


def install_page_error_handlers(app: FastAPI) -> None:
    """Answer errors on page paths with pages; leave every other path to the handler installed before."""
    for exc_type in (AppError, GenerationError, MatchingError, RequestValidationError):
        api_handler: Handler | None = app.exception_handlers.get(exc_type)

        async def handler(request: Request, exc: Exception, api_handler: Handler | None = api_handler) -> Response:
            if is_page(request.url.path):
                return page_error(request, exc)
            if api_handler is None:  # FastAPI's own default for validation errors
                assert isinstance(exc, RequestValidationError)
                return await request_validation_exception_handler(request, exc)
            result = api_handler(request, exc)
            return await result if isinstance(result, Awaitable) else result

        app.add_exception_handler(exc_type, handler)
