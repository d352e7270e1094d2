"""Two ASGI middlewares every request passes: strict JSON bodies, and the security headers of every answer.

**Strict JSON.** Python's `json` reads `NaN`, `Infinity` and `-Infinity` (not JSON), `"\\ud800"` (a lone
surrogate: a string no UTF-8 text can hold) and nesting until the interpreter's recursion limit. Passed
on, they failed later, as 500s: a NaN in a stored float, a surrogate in SQLite or in the password hasher
(the sign-in endpoint included), a `RecursionError`. So a JSON body (`application/json` or `+json`) is
read here first, whole, and refused with 422 in FastAPI's validation-error shape when it holds any of
them or nests deeper than `MAX_DEPTH`; otherwise it is handed on unchanged. The body limit still holds:
FastAPI's own limit wraps this middleware, so reading the body here stops at it with 413.

**Security headers.** Every answer says `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`
(the storefront's links carry a page token, which must not leave the site in a Referer), and may not be
framed (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`). Everything but the interactive API docs
also gets a Content-Security-Policy the pages satisfy: scripts, styles and images from this site only, no
inline script or style (the pages have none), no plugins, forms posting only here. The API docs (`/docs`,
`/redoc`) load FastAPI's Swagger UI from a CDN with an inline script, so they keep no CSP beyond the
framing rule.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from starlette.types import ASGIApp, Message as AsgiMessage, Receive, Scope, Send

MAX_DEPTH = 64  # deeper than any body of this API; far below the recursion limit
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = "frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]


class _Refused(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def json_problem(body: bytes) -> str | None:
    """Why `body` is refused (NaN/Infinity, a lone surrogate, nesting deeper than MAX_DEPTH), or None:
    valid JSON without those, or not JSON at all (left to FastAPI, which answers 422 itself)."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return f"the JSON nests deeper than {MAX_DEPTH} levels"
    except ValueError:  # not JSON (or not UTF-8): FastAPI's own answer
        return None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:  # iterative: a deep body must not recurse here either
        value, depth = stack.pop()
        if isinstance(value, str):
            if not _utf8(value):
                return "a string holds a lone surrogate (\\ud800-\\udfff), which is not text"
        elif isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                return f"the JSON nests deeper than {MAX_DEPTH} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(k, str) and not _utf8(k):
                    return "a key holds a lone surrogate (\\ud800-\\udfff), which is not text"
                stack.append((v, depth + 1))
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            msg = Message()
            msg["content-type"] = value.decode("latin-1")
            sub = msg.get_content_subtype()
            return msg.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))
    return False


class StrictJSON:
    """Refuse JSON bodies with NaN/Infinity, lone surrogates or deep nesting (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = json_problem(body) if body else None
        if problem is not None:
            detail = [{"type": "json_invalid", "loc": ["body"], "msg": f"JSON not accepted: {problem}", "input": None}]
            payload = json.dumps({"detail": detail}).encode()
            await send({"type": "http.response.start", "status": 422,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay() -> AsgiMessage:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class SecurityHeaders:
    """Add the security headers to every answer (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = (DOCS_CSP if path in DOCS or path.startswith("/docs/") else CSP).encode()

        async def with_headers(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in (*HEADERS, (b"content-security-policy", csp)) if k not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: Any) -> None:
    """Add both middlewares to a FastAPI app (inside its body limit)."""
    app.add_middleware(StrictJSON)
    app.add_middleware(SecurityHeaders)
