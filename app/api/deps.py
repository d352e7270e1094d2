"""FastAPI dependencies: the workspace built at start-up, and one transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import transaction
from app.workspace import Workspace


def get_workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def get_session(ws: Annotated[Workspace, Depends(get_workspace)]) -> Iterator[Session]:
    """A session whose work commits when the handler returns and rolls back if it raises."""
    with transaction(ws.sessions) as session:
        yield session


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
# scope="function": the transaction commits when the handler returns, *before* the response is sent, so a
# client never gets an answer (or a redirect to follow) for work that is not yet committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
