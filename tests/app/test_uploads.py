"""Uploads: size limits on trend files and images; images decoded with a format allow-list and
decompression-bomb protection, and stored re-encoded."""

import asyncio
import io
import json
import struct
import zlib
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import event

from app.api.main import MULTIPART_MARGIN_BYTES, create_app
from app.db import transaction
from app.errors import Invalid
from app.services import interest, production, uploads
from app.services.uploads import decode_image, read_limited
from app.settings import Settings
from matching.factories.synthetic import make_factory_registry

V1 = "/api/v1"
MAX_BYTES, MAX_PIXELS = 64 * 1024, 1_000_000


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG that declares `width` x `height` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _encoded(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, "navy" if mode == "RGB" else 0).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_allowed_formats_decode(fmt):
    img = decode_image(_encoded(fmt), max_pixels=MAX_PIXELS)
    assert img.size == (40, 30)


@pytest.mark.parametrize("raw, message", [
    (_encoded("GIF", mode="P"), "allowed format"),                # a real image, but not on the list
    (_encoded("BMP"), "allowed format"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "allowed format"),
    (b"", "allowed format"),
    (_png_header_only(2000, 1000), "at most 1,000,000 pixels"),    # refused from the header alone
    (_png_header_only(20_000, 20_000), "too large to decode"),     # Pillow's own bomb guard (> 2 x MAX_IMAGE_PIXELS)
    (_encoded("PNG", size=(300, 300))[:200], "damaged or truncated"),
])
def test_bad_images_are_refused_before_they_cost_anything(raw, message):
    with pytest.raises(Invalid, match=message):
        decode_image(raw, max_pixels=MAX_PIXELS)


def test_reads_stop_at_the_limit():
    assert read_limited(io.BytesIO(b"x" * 10), 10) == b"x" * 10
    stream = io.BytesIO(b"x" * 1000)
    with pytest.raises(Invalid, match="larger than the 10 byte limit"):
        read_limited(stream, 10)
    assert stream.tell() == 11  # the rest was never read


@pytest.fixture(scope="module")
def merch(tmp_path_factory, clients_of):
    settings = Settings(home=tmp_path_factory.mktemp("uploads"), decide_every_s=0, max_upload_bytes=MAX_BYTES,
                        max_image_pixels=MAX_PIXELS)
    app = create_app(settings)
    with TestClient(app):
        clients = clients_of(app)
        with transaction(clients.ws.sessions) as s:
            production.import_factories(s, make_factory_registry(60))
        merch = clients.new("merchandiser")
        merch.design = clients.plain_design(merch, publish=False)
        merch.buyer = clients.new("buyer")
        yield merch


def test_a_merchandiser_attaches_an_image_stored_as_png(merch):
    did = merch.design["id"]
    r = merch.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": ("look.jpg", _encoded("JPEG"), "image/jpeg")})
    assert r.status_code == 201, r.text
    urls = r.json()["image_urls"]
    assert len(urls) == 2  # the rendered sketch, then the upload
    served = merch.get(urls[1])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (40, 30)
    # buyers neither upload nor see a draft's images
    r = merch.buyer.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": ("x.png", _encoded("PNG"), "image/png")})
    assert r.status_code == 403
    assert merch.buyer.get(urls[1]).status_code == 404


@pytest.mark.parametrize("name, raw, message", [
    ("big.png", _encoded("PNG") + b"\0" * MAX_BYTES, "byte limit"),
    ("bomb.png", _png_header_only(20_000, 20_000), "too large"),
    ("wide.png", _png_header_only(5000, 5000), "pixels are allowed"),
    ("anim.gif", _encoded("GIF", mode="P"), "allowed format"),
])
def test_bad_image_uploads_are_422_and_change_nothing(merch, name, raw, message):
    did = merch.design["id"]
    before = merch.get(f"{V1}/merchandiser/designs/{did}").json()["image_urls"]
    r = merch.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": (name, raw, "application/octet-stream")})
    assert r.status_code == 422 and message in r.json()["detail"] and r.json()["field"] == "file"
    assert merch.get(f"{V1}/merchandiser/designs/{did}").json()["image_urls"] == before


def _boom(*_args, **_kwargs):
    raise RuntimeError("forced failure")


@contextmanager
def _failing_after_the_write(merch):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(interest, "stats", _boom)  # the upload handler calls it after attach_image wrote the file
        yield


@contextmanager
def _failing_at_commit(merch):
    event.listen(merch.ws.sessions, "before_commit", _boom)
    try:
        yield
    finally:
        event.remove(merch.ws.sessions, "before_commit", _boom)


@pytest.mark.parametrize("failing", [_failing_after_the_write, _failing_at_commit])
def test_an_upload_whose_transaction_fails_leaves_no_file_and_no_row(merch, failing):
    did, images_dir = merch.design["id"], merch.ws.settings.images_dir
    before_urls = merch.get(f"{V1}/merchandiser/designs/{did}").json()["image_urls"]
    before_files = set(images_dir.iterdir())
    with failing(merch), pytest.raises(RuntimeError, match="forced failure"):
        merch.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": ("look.png", _encoded("PNG"), "image/png")})
    assert set(images_dir.iterdir()) == before_files
    assert merch.get(f"{V1}/merchandiser/designs/{did}").json()["image_urls"] == before_urls


def test_a_successful_upload_leaves_exactly_one_new_file(merch):
    did, images_dir = merch.design["id"], merch.ws.settings.images_dir
    before_files = set(images_dir.iterdir())
    r = merch.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": ("look.png", _encoded("PNG"), "image/png")})
    assert r.status_code == 201, r.text
    after_files = set(images_dir.iterdir())
    assert after_files >= before_files and len(after_files - before_files) == 1
    (new,) = after_files - before_files
    assert merch.get(r.json()["image_urls"][-1]).content == new.read_bytes()  # the row names that file


def test_trend_files_over_the_limit_are_422(merch):
    big = "date,cn_all_socks_color_navy\n" + "2025-01-06,0.1\n" * (MAX_BYTES // 10)
    r = merch.post(f"{V1}/merchandiser/trends", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 422 and "byte limit" in r.json()["detail"]


BODY_LIMIT = MAX_BYTES + MULTIPART_MARGIN_BYTES
CHUNK = 16 * 1024


def _post_streamed(app, path: str, chunks: int, *, declared: bool, token: str | None) -> tuple[int, bytes, int]:
    """POST a multipart body of `chunks` x CHUNK bytes straight to the ASGI app, one chunk per receive, with or
    without a Content-Length; returns the status, the response body and how many chunks the server took."""
    taken = 0

    async def receive() -> dict:
        nonlocal taken
        taken += 1
        if taken == 1:
            head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
            return {"type": "http.request", "body": head, "more_body": True}
        if taken <= chunks:
            return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}
        return {"type": "http.request", "body": b"\r\n--b--\r\n", "more_body": False}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=b")]
    if declared:
        headers.append((b"content-length", str(chunks * CHUNK).encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, taken


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "merchandiser"])
def test_bodies_over_the_limit_are_413_before_anything_reads_them(merch, monkeypatch, declared, signed_in):
    handled: list[int] = []
    monkeypatch.setattr(uploads, "read_limited", lambda *args, **kwargs: handled.append(1))
    chunks = 50 * BODY_LIMIT // CHUNK  # 50 times the limit
    status, body, taken = _post_streamed(merch.app, f"{V1}/merchandiser/trends", chunks, declared=declared,
                                         token=merch.token if signed_in else None)
    assert status == 413  # not 401: the body limit comes before sign-in is checked
    assert taken <= BODY_LIMIT // CHUNK + 2  # the server stopped reading at the limit
    assert not handled  # the handler never ran
    if not declared:  # a declared length is refused with Starlette's plain "Content Too Large"
        assert f"larger than the {BODY_LIMIT:,} byte limit" in json.loads(body)["detail"]


def test_a_body_just_under_the_limit_is_stored(merch):
    did = merch.design["id"]
    png = _encoded("PNG")
    raw = png + b"\0" * (MAX_BYTES - len(png))  # exactly the upload limit (Pillow ignores bytes after IEND)
    r = merch.post(f"{V1}/merchandiser/designs/{did}/images", files={"file": ("look.png", raw, "image/png")})
    assert r.status_code == 201, r.text
