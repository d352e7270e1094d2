"""Sign-in for API clients (bearer tokens), the signed-in user, and user administration (admins)."""

from __future__ import annotations

from datetime import timedelta

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request

from app.api.auth import AdminUser, BearerCredentials, CurrentAuth, CurrentUser
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import ERROR_RESPONSES, AccountOut, ErrorOut, TokenIn, TokenOut, UserIn, UserOut
from app.errors import Conflict, Invalid
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


Login = Annotated[str, Path(min_length=1, max_length=200, description="the account's login")]
Action = Literal["disable", "enable", "revoke", "reset-password"]


@router.post("/users/{login}/{action}")
def account_action(login: Login, action: Action, admin: AdminUser, session: SessionDep) -> AccountOut:
    """Take access away or give it back (admins only): `disable` (no sign-in; every session and token
    ends at once, so the account's next request is 401), `enable`, `revoke` (every session and token ends,
    the password stays), `reset-password` (a new random password, shown once in the answer; every session
    and token ends). An admin does not act on their own account here (the command line can)."""
    user = accounts.user_by_login(session, login)
    if user.id == admin.id:
        raise Conflict("an admin cannot disable, revoke or reset their own account here; another admin or "
                       "`trendloom users` can")
    password, ended = None, 0
    if action == "disable":
        ended = accounts.disable(session, user, utcnow())
    elif action == "enable":
        accounts.enable(session, user)
    elif action == "revoke":
        ended = accounts.revoke_all(session, user)
    else:
        ended = accounts.revoke_all(session, user)
        password = accounts.reset_password(session, user)
    return AccountOut(user=UserOut.model_validate(user), ended=ended, password=password)
