"""Accounts (admins): every user with their role and state; disable, enable, end every session and token
("sign out everywhere"), and reset a password. The same actions as `trendloom users` and
`POST /api/v1/users/{login}/{action}` (`app.services.accounts`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.api.deps import SessionDep
from app.errors import Conflict
from app.models import utcnow
from app.services import accounts
from app.web.deps import AdminPage
from app.web.rendering import redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=2**53)]
Action = Literal["disable", "enable", "revoke", "reset-password"]
DONE = {"disable": "flash.account_disabled", "enable": "flash.account_enabled", "revoke": "flash.account_revoked"}


@router.get("/users")
def users_page(request: Request, auth: AdminPage, session: SessionDep) -> Response:
    return render(request, "admin/users.html", auth, users=accounts.list_users(session), new_password=None, who=None)


@router.post("/users/{user_id}/{action}")
def account_action(request: Request, user_id: UserId, action: Action, auth: AdminPage, session: SessionDep) -> Response:
    """Disabling, revoking and resetting end every session and token of the account at once. A reset shows
    the new password on the answer page, once (it is in no cookie or link)."""
    user = accounts.get_user(session, user_id)
    if user.id == auth.user.id:
        raise Conflict("an admin cannot disable, revoke or reset their own account here")
    if action == "disable":
        accounts.disable(session, user, utcnow())
    elif action == "enable":
        accounts.enable(session, user)
    elif action == "revoke":
        accounts.revoke_all(session, user)
    else:
        password = accounts.reset_password(session, user)
        response = render(request, "admin/users.html", auth, users=accounts.list_users(session), new_password=password,
                          who=user.login)
        response.headers["Cache-Control"] = "no-store"
        return response
    return redirect(request, "/admin/users", ok=DONE[action], login=user.login)
