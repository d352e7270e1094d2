"""Uploaded files: a size limit on every upload, and images decoded defensively before they are kept.

An uploaded image is untrusted input to a C decoder. It is
- limited before it is read: the app refuses a request body over the upload limit plus room for the
  multipart envelope (`app.api.main.body_limit`) with 413, a declared Content-Length without reading any
  of it and a streamed body as soon as it passes the limit, before authentication or the handler runs;
- held to the upload limit exactly once the framework has spooled it (`read_limited` reads at most one
  byte more);
- opened by Pillow with only the allowed formats tried (`formats=`), so a file cannot pick an obscure
  decoder by its magic bytes;
- refused when its declared size exceeds `max_pixels`, before any pixel is decoded; Pillow's own
  decompression-bomb guard (`Image.MAX_IMAGE_PIXELS`, which nothing here turns off) is the backstop;
- fully decoded once, so a truncated or corrupt file is refused now, not when someone views it;
- re-encoded as PNG: what is served is pixels we produced, without the upload's metadata.

A stored image and its database row succeed or fail together: the file is written into the request's
transaction and removed again if that transaction rolls back (`app.db.delete_on_rollback`).
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from app.db import delete_on_rollback
from app.errors import Invalid
from app.models import Design

ALLOWED_IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_IMAGES_PER_DESIGN = 20


def read_limited(stream: BinaryIO, max_bytes: int, *, field: str = "file") -> bytes:
    """The whole upload, or Invalid when it is larger than `max_bytes` (at most max_bytes + 1 are read)."""
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Invalid(f"the upload is larger than the {max_bytes:,} byte limit", field=field)
    return raw


def decode_image(raw: bytes, *, max_pixels: int, field: str = "file") -> Image.Image:
    """Decode an uploaded image (PNG, JPEG or WebP only), refusing decompression bombs and damaged files."""
    allowed = ", ".join(ALLOWED_IMAGE_FORMATS)
    try:
        img = Image.open(io.BytesIO(raw), formats=ALLOWED_IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise Invalid(f"the image is too large to decode; at most {max_pixels:,} pixels are allowed",
                      field=field) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Invalid(f"the file is not an image in an allowed format ({allowed})", field=field) from None
    width, height = img.size
    if width * height > max_pixels:
        raise Invalid(f"the image is {width}x{height} pixels; at most {max_pixels:,} pixels are allowed", field=field)
    try:
        img.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise Invalid("the image is damaged or truncated and cannot be decoded", field=field) from None
    return img


def attach_image(session: Session, design: Design, img: Image.Image, images_dir: Path) -> str:
    """Store `img` as a new PNG image of `design` (after its existing ones); returns the file name."""
    if len(design.images) >= MAX_IMAGES_PER_DESIGN:
        raise Invalid(f"a design has at most {MAX_IMAGES_PER_DESIGN} images", field="file")
    name = f"design-{design.id}-u{secrets.token_hex(6)}.png"
    rgb = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    path = images_dir / name
    with open(path, "xb") as f:  # "x": a new file only, so the cleanup below never removes someone else's
        delete_on_rollback(session, path)
        rgb.save(f, format="PNG")
    design.images = [*design.images, name]
    session.flush()
    return name

