"""Rendering pages: the Jinja2 environment, the per-request context (language, user, CSRF token),
flash messages carried across a redirect, and the formatting filters the templates use."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from app import lifecycle
from app.api.auth import CSRF_FIELD, PAGE_TOKEN, Auth, page_token
from app.errors import Invalid
from app.services import notices
from app.web.i18n import LANG_COOKIE, Translator, growth_pct, negotiate

TEMPLATES = Path(__file__).with_name("templates")
FLASH_COOKIE = "trendloom_flash"
FLASH_KINDS = ("ok", "warn", "error")  # done; done but something still needs the user; refused
BABEL_LOCALES = {"en": "en", "zh-CN": "zh_CN"}  # page language -> Babel locale for money

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@pass_context
def money(context: Context, cents: int | None, grouped: bool = True) -> str:
    """A price for people: with its currency, in the page's language, by Babel ("¥1,012.50" on Chinese
    pages, "CN¥1,012.50" on English ones); ungrouped, a bare "1012.50" for form fields. Prices are stored
    as integer hundredths of the workspace currency (`Settings.currency`)."""
    if cents is None:
        return "–"
    if not grouped:
        return f"{cents // 100}.{cents % 100:02d}"
    locale = BABEL_LOCALES.get(context.get("lang", ""), "en")
    return format_currency(Decimal(cents) / 100, context.get("currency", "CNY"), locale=locale)


def parse_money(text: str, field: str) -> int:
    """A price typed as a decimal amount ("12.5", "12.50") in cents; Invalid when it is not one."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise Invalid(f"{text!r} is not an amount like 12.50", field=field) from None
    cents = value * 100
    if not value.is_finite() or cents != cents.to_integral_value() or not 0 < cents <= 10**9:
        raise Invalid(f"{text!r} is not an amount between 0.01 and 10,000,000 with at most 2 decimals", field=field)
    return int(cents)


def percent(x: float | None, digits: int = 0) -> str:
    """A probability or share as a percentage ("84%")."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


_env.filters.update(money=money, percent=percent, growth_pct=growth_pct)
# Status words come from the lifecycle: `design_word(d)` is a design's catalogue key (a win whose book is
# still open reads "winning"); `S`, `O` and `P` are the design, order and pre-order states templates compare with.
_env.globals.update(design_word=lambda d: lifecycle.design_word(d.status, d.book_closed_at is not None),
                    buyer_word=lambda d: lifecycle.design_word(d.status, d.book_closed_at is not None,
                                                               lifecycle.BUYER_DESIGN_WORDS),
                    book_open=lambda d: d.status in lifecycle.BOOK_STATES and d.book_closed_at is None,
                    S=lifecycle.DesignState, O=lifecycle.OrderState, P=lifecycle.PreOrderState)


def translator(request: Request) -> Translator:
    """The translator for this request's language (see `app.web.i18n.negotiate`)."""
    ws = request.app.state.workspace
    return Translator(negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")),
                      ws.taxonomy)


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site (so a `next=` parameter cannot redirect elsewhere)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return default
    return target


def render(request: Request, template: str, auth: Auth | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """Render `template` with the page context: `t` (messages), `auth`, the CSRF field and any flash."""
    t = translator(request)
    flash = _read_flash(request)
    unread_notices = 0
    if auth is not None:  # the header's count (a query of its own: the page's session may be mid-change)
        with request.app.state.workspace.sessions() as s:
            unread_notices = notices.unread(s, auth.user)
    html = _env.get_template(template).render(unread_notices=unread_notices,
        request=request, t=t, lang=t.lang, currency=request.app.state.workspace.settings.currency,
        auth=auth, user=auth.user if auth else None,
        csrf_field=CSRF_FIELD, csrf_token=auth.csrf_token if auth else "", flash=flash,
        page_token_field=PAGE_TOKEN, page_token=page_token(auth.csrf_token) if auth else "", **context)
    response = HTMLResponse(html, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, to: str, *, ok: str | None = None, error: str | None = None, warn: str | None = None,
             detail: str = "", **values: object) -> RedirectResponse:
    """A 303 redirect (after a form POST) carrying a flash message for the next page.

    `ok`, `warn` or `error` is a catalogue key formatted with `values`, in the request's language (`warn`:
    done, but something is left for the user to act on); `detail` is
    text shown after it (e.g. the service's reason). The message travels in a short-lived cookie."""
    response = RedirectResponse(to, status_code=303)
    if ok is not None or error is not None or warn is not None:
        kind, key = ("ok", ok) if ok is not None else ("warn", warn) if warn is not None else ("error", error)
        assert key is not None
        text = translator(request)(key, **values)
        payload = json.dumps({"kind": kind, "text": text, "detail": detail[:500]}).encode()
        response.set_cookie(FLASH_COOKIE, base64.urlsafe_b64encode(payload).decode(), max_age=60, path="/",
                            httponly=True, samesite="lax")
    return response


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, json.JSONDecodeError):
        return None  # not a cookie this site wrote: nothing to show
    if not isinstance(data, dict) or data.get("kind") not in FLASH_KINDS:
        return None
    return {"kind": str(data["kind"]), "text": str(data.get("text", "")), "detail": str(data.get("detail", ""))}
