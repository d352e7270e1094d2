"""Design images for the pages. Merchandisers (and admins) see every design's images, drafts included;
buyers and factories only those of designs that have been published."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse

from app.api.auth import Auth
from app.api.deps import SessionDep, WorkspaceDep
from app.errors import NotFound
from app.services import designs, interest
from app.web.deps import page_auth

router = APIRouter(prefix="/web/images", include_in_schema=False)
AnyPage = Annotated[Auth, Depends(page_auth("merchandiser", "admin", "buyer", "factory"))]


@router.get("/{design_id}/{index}")
def design_image(design_id: Annotated[int, Path(ge=1, le=2**53)], index: Annotated[int, Path(ge=0, le=100)],
                 auth: AnyPage, session: SessionDep, ws: WorkspaceDep) -> FileResponse:
    d = (designs.get(session, design_id) if auth.user.role in ("merchandiser", "admin")
         else interest.published_design(session, design_id))
    if index >= len(d.images):
        raise NotFound(f"design {design_id} has no image {index}")
    return FileResponse(ws.settings.images_dir / d.images[index], media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})
