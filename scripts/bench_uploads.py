"""Hostile uploads: how long each file input takes to answer a 20 MiB file of any shape (issue 16).

    .venv/bin/python scripts/bench_uploads.py [--mib 20] [--limit 60] [--targets trends,long,posts,...]

Every way a file comes in is tried with the same hostile shapes (a file of plausible rows until the size,
one huge cell, 100,000 columns, millions of tiny rows, CR-only line endings, NUL bytes, random bytes; for
JSONL deep nesting and one huge string; for images a corrupt file and a declared decompression bomb):
- over HTTP, through the app with a signed-in merchandiser (`TestClient`): trend CSV wide and long and
  posts JSONL (`POST /api/v1/merchandiser/trends`), a design image (`POST .../designs/{id}/images`);
- through the services the command line runs, from a file on disk (`read_text` and the import, in a
  transaction that is rolled back): catalogue CSV (`trendloom catalog import`), its sales history
  (`trendloom catalog backtest`: the catalogue's `units_sold`), factory registry CSV
  (`trendloom factories import`).

Timed is the call only (HTTP request or read + import), not building the file, after a warm-up with a small
plausible file (models load lazily, once per process): its wall clock, and the CPU time of its process (on a
shared, loaded machine the wall clock measures the load as much as the code). An answer is an accepted
file or a refusal the user is shown (HTTP 4xx; the errors the CLI prints: `AppError`, `GenerationError`,
`MatchingError`); anything else (HTTP 5xx, another exception)
is reported as an error. Each target runs in a child process; a shape still running after `--limit`
seconds is killed and reported as such. The target is every answer in under 5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

MiB = 2**20
TARGETS = ("trends", "long", "posts", "image", "catalog", "sales", "registry")


# --- the shapes -------------------------------------------------------------------------------------

def _fill(head: bytes, row: Callable[[int], bytes], size: int, sep: bytes = b"\n") -> bytes:
    """`head` then `row(i)` lines until `size` bytes."""
    out, n, i = [head], len(head), 0
    while True:
        r = row(i) + sep
        if n + len(r) > size:
            break
        out.append(r)
        n += len(r)
        i += 1
    return b"".join(out)


def csv_shapes(head: bytes, row: Callable[[int], bytes], size: int) -> dict[str, bytes]:
    """The hostile shapes of a CSV whose valid header is `head` (with its newline) and rows `row(i)`."""
    rng = random.Random(16)
    wide_head = b",".join(b"c%d" % i for i in range(100_000)) + b"\n"
    return {
        "plausible rows until the size": _fill(head, row, size),
        "one cell of the whole size": head + b"x" * (size - len(head)),
        "one quoted cell with newlines": head + b'"' + b"a\n" * ((size - len(head) - 2) // 2) + b'"',
        "100,000 columns, rows until the size": _fill(wide_head, lambda i: b",".join([b"1"] * 100_000), size),
        "millions of tiny rows": _fill(head, lambda i: b"1", size),
        "CR-only line endings": _fill(head.replace(b"\n", b"\r"), row, size, sep=b"\r"),
        "NUL bytes after the header": head + b"\0" * (size - len(head)),
        "NUL in every row": _fill(head, lambda i: row(i).replace(b",", b"\0,", 1), size),
        "random bytes": rng.randbytes(size),
    }


def jsonl_shapes(size: int) -> dict[str, bytes]:
    post = (b'{"text": "navy cotton crew socks %d", "timestamp": "2025-01-%02dT10:00:00Z", '
            b'"engagement": 3, "region": "cn"}')
    half = size // 2
    rng = random.Random(16)
    words = [bytes(rng.choices(b"bcdfghjklmnpqrstvwxz", k=7)) for _ in range(50_000)]
    nonsense = b'{"text": "%s", "timestamp": "2025-01-06T10:00:00Z"}'
    return {
        "plausible posts until the size": _fill(b"", lambda i: post % (i, 6 + i % 20), size),
        "20,000 posts of words no keyword reads": _fill(
            b"", lambda i: nonsense % b" ".join(rng.choices(words, k=max(1, (size // 20_000 - 50) // 8 + 1))), size),
        "one post nested to the whole size": b"[" * half + b"]" * half,
        "one object nested to the whole size": b'{"a":' * (size // 6) + b"1" + b"}" * (size // 6),
        "one string of the whole size": b'{"text": "' + b"a" * (size - 40) + b'", "timestamp": "2025-01-06"}',
        "CR-only line endings": _fill(b"", lambda i: post % (i, 6 + i % 20), size, sep=b"\r"),
        "millions of empty objects": _fill(b"", lambda i: b"{}", size),
        "NaN and lone surrogates": _fill(b"", lambda i: b'{"text": "\\ud800 socks", "engagement": NaN}', size),
        "NUL bytes": b"\0" * size,
        "random bytes": random.Random(16).randbytes(size),
    }


def image_shapes(size: int) -> dict[str, bytes]:
    import struct
    import zlib

    def png(width: int, height: int, idat: bytes) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", idat) + chunk(b"IEND", b""))

    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((2048, 2048), 64).convert("RGB").save(buf, "PNG")  # ~ a real 4-megapixel photo
    return {
        "a 4-megapixel noise PNG": buf.getvalue(),
        "PNG declaring 100,000 x 100,000": png(100_000, 100_000, zlib.compress(b"\0" * (size // 2), 9)),
        "PNG header, then garbage": png(1000, 1000, random.Random(16).randbytes(size - 100)),
        "random bytes": random.Random(16).randbytes(size),
        "NUL bytes": b"\0" * size,
    }


def shapes(target: str, size: int) -> dict[str, bytes]:
    def week(i: int) -> bytes:  # consecutive Mondays from 2000-01-03
        return (date(2000, 1, 3) + timedelta(weeks=i)).isoformat().encode()

    if target == "trends":  # 2,000 series (the most a file may hold), a week a row
        values = b",".join(b"%d" % (i % 97) for i in range(2000))
        return csv_shapes(b"date," + b",".join(b"cn_all_socks_s%d" % i for i in range(2000)) + b"\n",
                          lambda i: week(i) + b"," + values, size)
    if target == "long":  # series after series of 500 weeks
        return csv_shapes(b"date,series,value\n", lambda i: b"%s,cn_all_socks_s%d,%d" % (week(i % 500), i // 500, i % 97),
                          size)
    if target == "posts":
        return jsonl_shapes(size)
    if target == "image":
        return image_shapes(size)
    if target in ("catalog", "sales"):
        return csv_shapes(b"id,name,description,price_cents,launch_date,units_sold\n",
                          lambda i: b"SKU-%07d,navy cotton crew socks,,1299,2025-01-06,%d" % (i, i % 90), size)
    if target == "registry":
        return csv_shapes(b"name,address,country_name,sector,product_type,number_of_workers\n",
                          lambda i: b"Mill %d Co. Ltd,%d Road Hangzhou,China,Apparel,socks,100-500" % (i, i), size)
    raise ValueError(f"unknown target {target!r}; allowed: {', '.join(TARGETS)}")


# --- the child: one target, every shape -------------------------------------------------------------

def child(target: str, size: int, start: int) -> None:
    """Answer every shape of `target` from number `start` on, one JSON line each on stdout."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.db import transaction
    from app.errors import AppError
    from app.models import Design
    from app.services import accounts, catalog, factory_registry
    from app.services.catalog_file import read_text
    from app.settings import Settings
    from generation.errors import GenerationError
    from matching.errors import MatchingError

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(home=Path(tmp) / "ws", decide_every_s=0, max_upload_bytes=max(size, 1024)))
        with TestClient(app) as client:
            ws = app.state.workspace
            with transaction(ws.sessions) as s:
                accounts.create_user(s, "merch", "correct horse battery", "merchandiser")
                d = Design(name="d", category="socks", spec={}, status="draft")
                s.add(d)
                s.flush()
                design_id = d.id
            token = client.post("/api/v1/auth/token", json={"login": "merch", "password": "correct horse battery"})
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

            def http(url: str, name: str, data: bytes) -> tuple[str, str]:
                r = client.post(url, files={"file": (name, data, "application/octet-stream")})
                kind = "accepted" if r.status_code < 400 else "refused" if r.status_code < 500 else "error"
                return kind, f"{r.status_code} {r.text[:150]}"

            def service(data: bytes, call: Callable[[object, str], object]) -> tuple[str, str]:
                path = Path(tmp) / "upload.csv"
                path.write_bytes(data)
                try:
                    with ws.sessions() as s:
                        out = call(s, read_text(path))
                        s.rollback()
                except (AppError, GenerationError, MatchingError) as exc:  # what the CLI prints as a refusal
                    return "refused", str(exc)[:150]
                return "accepted", str(out)[:150]

            calls: dict[str, Callable[[bytes], tuple[str, str]]] = {
                "trends": lambda b: http("/api/v1/merchandiser/trends", "t.csv", b),
                "long": lambda b: http("/api/v1/merchandiser/trends", "t.csv", b),
                "posts": lambda b: http("/api/v1/merchandiser/trends", "p.jsonl", b),
                "image": lambda b: http(f"/api/v1/merchandiser/designs/{design_id}/images", "i.png", b),
                "catalog": lambda b: service(b, lambda s, text: catalog.import_catalog(
                    s, text=text, file="upload.csv", language=ws.language, embed=ws.embedder.encode).rows),
                "sales": lambda b: service(b, lambda s, text: catalog.backtest(
                    text=text, file="upload.csv", language=ws.language, embed=ws.embedder.encode,
                    k=ws.settings.prior_neighbours, folds=5, seed=0).to_dict()),
                "registry": lambda b: service(b, lambda s, text: factory_registry.import_registry(
                    s, text=text, file="upload.csv", taxonomy=ws.taxonomy, language=ws.language).to_dict(outcomes=False)),
            }
            # warm up first (lazy model loads, caches) with a small file of the plausible shape
            warm = next(iter(shapes(target, 64 * 1024).values()))
            calls[target](warm if target == "image" else warm[:warm.rfind(b"\n", 0, 8192) + 1])
            for i, (name, data) in enumerate(shapes(target, size).items()):
                if i < start:
                    continue
                print(json.dumps({"i": i, "shape": name, "started": True}), flush=True)
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    kind, what = calls[target](data)
                except Exception as exc:  # noqa: BLE001  # an error is what this reports, next to the answers
                    kind, what = "error", f"{type(exc).__name__}: {str(exc)[:150]}"
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                print(json.dumps({"i": i, "shape": name, "bytes": len(data), "answer": kind, "seconds": round(seconds, 2),
                                  "cpu_seconds": round(cpu, 2),
                                  "detail": what}), flush=True)


# --- the parent: a child per target, killed past the limit ------------------------------------------

def run_target(target: str, size: int, limit: float) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    start = 0
    names = list(shapes(target, 1024))
    total = len(names)
    while start < total:
        proc = subprocess.Popen([sys.executable, __file__, "--child", target, "--bytes", str(size), "--start", str(start)],
                                stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[1])})
        lines: queue.Queue[str] = queue.Queue()  # read by a thread: select() on a buffered pipe misses buffered lines
        threading.Thread(target=lambda out=proc.stdout: [lines.put(x) for x in out] + [lines.put("")], daemon=True).start()
        deadline: float | None = None
        current: dict[str, object] | None = None
        got = 0  # answers from this child
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = lines.get(timeout=wait)
            except queue.Empty:  # past the limit
                proc.kill()
                proc.wait()
                assert current is not None
                results.append({**current, "answer": f"killed after {limit:.0f} s", "seconds": None, "detail": ""})
                print(f"{target:>8} | {current['shape']:<38} | killed after {limit:.0f} s", file=sys.stderr)
                start = int(current["i"]) + 1  # type: ignore[call-overload]
                break
            if not line:  # the child ended
                proc.wait()
                if current is None and start + got < total:  # it died between shapes (in its warm-up, say)
                    current = {"i": start + got, "shape": names[start + got]}
                if current is not None:  # it died inside a shape
                    results.append({**current, "answer": f"process died ({proc.returncode})", "seconds": None,
                                    "detail": ""})
                    print(f"{target:>8} | {current['shape']:<38} | process died ({proc.returncode})", file=sys.stderr)
                start = total if current is None else int(current["i"]) + 1  # type: ignore[call-overload]
                break
            row = json.loads(line)
            if row.get("started"):
                current, deadline = row, time.monotonic() + limit
                continue
            results.append(row)
            got += 1
            print(f"{target:>8} | {row['shape']:<38} | {row['answer']:<8} | {row['seconds']:>6} s "
                  f"({row.get('cpu_seconds')} s CPU) | {str(row['detail'])[:90]}", file=sys.stderr)
            current, deadline = None, None
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=float, default=20.0)
    ap.add_argument("--limit", type=float, default=60.0, help="seconds after which a shape is killed")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--out", type=Path, default=Path("var/bench_uploads.jsonl"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--bytes", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.bytes, args.start)
        return
    size = int(args.mib * MiB)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("w") as log:
        for target in args.targets.split(","):
            for row in run_target(target, size, args.limit):
                row = {"target": target, **row}
                log.write(json.dumps(row) + "\n")
                log.flush()
                rows.append(row)
    print("| input | shape | answer | wall s | CPU s |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        secs = "—" if r["seconds"] is None else f"{r['seconds']:.2f}"
        cpu = "—" if r.get("cpu_seconds") is None else f"{r['cpu_seconds']:.2f}"
        print(f"| {r['target']} | {r['shape']} | {r['answer']} | {secs} | {cpu} |")
    slow = [r for r in rows if r["seconds"] is None or r["seconds"] >= 5 or r["answer"] not in ("accepted", "refused")]
    print(f"\n{len(rows) - len(slow)} of {len(rows)} answered (accepted or refused) in under 5 s", file=sys.stderr)


if __name__ == "__main__":
    main()
