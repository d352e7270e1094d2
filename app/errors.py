"""Application errors and the one place where every error becomes an HTTP status code."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from generation.errors import GenerationError, ImageModelError
from matching.errors import MatchingError


class AppError(Exception):
    """Base for errors the service raises on purpose; `status_code` is what the API answers."""

    status_code = 400


class NotFound(AppError):
    status_code = 404


class Unauthenticated(AppError):
    """No valid credentials: a missing, wrong or expired token, session or password."""

    status_code = 401


class Forbidden(AppError):
    """Signed in, but the role may not do this (another role's endpoint, or a bad CSRF token)."""

    status_code = 403


class Conflict(AppError):
    """The request is valid but the object's state does not allow it (e.g. accept a declined order)."""

    status_code = 409


class TransitionRefused(Conflict):
    """A lifecycle move (`app.lifecycle`) the row's current state does not allow: `state` is that state,
    `allowed` the states it may move to from there, `requested` the one asked for. Also what the loser
    of two concurrent moves of one row gets."""

    def __init__(self, message: str, *, state: str, allowed: list[str], requested: str) -> None:
        super().__init__(message)
        self.state, self.allowed, self.requested = state, allowed, requested


class Invalid(AppError):
    """A value is well-formed but not acceptable (e.g. a quantity below the MOQ)."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooManyRequests(AppError):
    """Over a rate limit (`app.services.rate_limit`): refused for `retry_after_s` more seconds (the
    Retry-After header)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyAttempts(TooManyRequests):
    """Too many failed sign-ins for a login (`scope` "login") or from a client address ("client"):
    refused without checking the password for `retry_after_s` more seconds (the Retry-After header)."""

    def __init__(self, message: str, *, retry_after_s: int, scope: Literal["login", "client"]) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.scope = scope


def install_error_handlers(app: FastAPI) -> None:
    """Map domain and application errors to JSON responses with a clear `detail`."""

    async def app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        body: dict[str, object] = {"detail": str(exc)}
        if isinstance(exc, Invalid) and exc.field:
            body["field"] = exc.field
        if isinstance(exc, TransitionRefused):
            body |= {"state": exc.state, "allowed": exc.allowed, "requested": exc.requested}
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    async def domain_error(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    async def model_error(_: Request, exc: Exception) -> JSONResponse:
        # the server's own model files are missing or broken: not the caller's fault, so 503
        return JSONResponse({"detail": str(exc)}, status_code=503)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(ImageModelError, model_error)
    app.add_exception_handler(GenerationError, domain_error)
    app.add_exception_handler(MatchingError, domain_error)
