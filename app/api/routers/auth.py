"""Sign-in for API clients (bearer tokens), the signed-in user, and user administration (admins)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from app.api.auth import AdminUser, BearerCredentials, CurrentAuth, CurrentUser
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import ERROR_RESPONSES, ErrorOut, TokenIn, TokenOut, UserIn, UserOut
from app.errors import Invalid
from app.models import utcnow
from app.services import accounts

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=ERROR_RESPONSES)
TOO_MANY_ATTEMPTS = {
    "model": ErrorOut, "description": "too many failed sign-ins for this login or from this address",
    "headers": {"Retry-After": {"description": "seconds until the oldest counted failure leaves the window",
                                "schema": {"type": "integer"}}}}


@router.post("/auth/token", status_code=201,
             responses={401: {"description": "wrong login or password"}, 429: TOO_MANY_ATTEMPTS})
def issue_token(body: TokenIn, request: Request, session: SessionDep, ws: WorkspaceDep) -> TokenOut:
    """Exchange a login and password for a bearer token (send it as `Authorization: Bearer <token>`).

    Failed attempts are limited per login and per client address (settings `LOGIN_*`): over the limit
    the answer is 429 with `Retry-After`, whatever the password."""
    user = accounts.sign_in(session, ws.login_limiter, body.login, body.password,
                            client=request.client.host if request.client else None)
    now, ttl = utcnow(), timedelta(days=ws.settings.token_ttl_days)
    token = accounts.issue_token(session, user, now, ttl, name=body.name)
    return TokenOut(access_token=token, expires_at=now + ttl, user=UserOut.model_validate(user))


@router.delete("/auth/token", status_code=204)
def revoke_token(auth: CurrentAuth, bearer: BearerCredentials, session: SessionDep) -> None:
    """Sign out an API client: the bearer token of this request stops working."""
    if auth.via != "token" or bearer is None:
        raise Invalid("only a bearer token can be revoked here; browsers sign out on the logout page")
    accounts.revoke_token(session, bearer.credentials)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user, with the buyer or factory they act for."""
    return UserOut.model_validate(user)


@router.post("/users", status_code=201)
def create_user(body: UserIn, _: AdminUser, session: SessionDep) -> UserOut:
    """Create an account (admins only)."""
    return UserOut.model_validate(accounts.create_user(
        session, body.login, body.password, body.role, display_name=body.display_name, language=body.language,
        buyer_id=body.buyer_id, factory_id=body.factory_id, buyer_kind=body.buyer_kind))


@router.get("/users")
def list_users(_: AdminUser, session: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in accounts.list_users(session)]
