"""Who may see a page: page-level guards on top of `app.api.auth`, and the paths the pages own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from app.api.auth import Auth, OptionalAuth
from app.errors import Forbidden, Unauthenticated

# Every page lives under one of these paths; errors there are answered with pages, not JSON.
PAGE_PREFIXES = ("/login", "/logout", "/language", "/merchandiser", "/shop", "/factory", "/admin", "/web")
HOME = {"merchandiser": "/merchandiser", "admin": "/merchandiser", "buyer": "/shop", "factory": "/factory"}


# The API's own paths: errors there stay JSON, an unknown one included.
API_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json", "/healthz")


def is_api(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") or path.startswith(p + ".") for p in API_PREFIXES)


def is_page(path: str) -> bool:
    """True for the paths of the web pages (the root `/` included)."""
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


def page_auth(*roles: str) -> Callable[[Auth | None], Auth]:
    """A dependency: the signed-in caller if their role is one of `roles`.

    Not signed in raises Unauthenticated (the page handler redirects to the sign-in page); another
    role raises Forbidden. Unlike `require_role`, admins pass only where `roles` names them: the shop
    needs a buyer and the portal a factory to act for."""

    def check(auth: OptionalAuth) -> Auth:
        if auth is None:
            raise Unauthenticated("sign in to see this page")
        if auth.user.role not in roles:
            raise Forbidden(f"this page is for the {' or '.join(roles)} role; you are signed in as {auth.user.role}")
        return auth

    return check


MerchandiserPage = Annotated[Auth, Depends(page_auth("merchandiser", "admin"))]
BuyerPage = Annotated[Auth, Depends(page_auth("buyer"))]
FactoryPage = Annotated[Auth, Depends(page_auth("factory"))]
AdminPage = Annotated[Auth, Depends(page_auth("admin"))]
AnyPage = Annotated[Auth, Depends(page_auth("merchandiser", "admin", "buyer", "factory"))]
