"""What covers the flat sketch's surface: the colour palette, pattern fills, detail marks and material textures.

Pattern and detail functions draw with a `Brush` on the supersampled surface that each part of the
sketch is filled from (`render_flat` in `flat.py`); `texture` gives the per-pixel offset added inside the
product after downsampling. Every colour is a shade of the spec's base colour (`Palette`), and patterns
and details cover well under half of the product, so the spec colour stays dominant. Drawing a new
pattern, detail or material changes only this file of the renderer; the outlines are in `flat_shapes.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from generation.errors import GenerationError
from generation.images.flat_shapes import Box, Pt, arc, dashes

RGB = tuple[int, int, int]
OUTLINE: RGB = (38, 38, 42)
WHITE: RGB = (255, 255, 255)


# ---------------------------------------------------------------- colours


def mix(a: RGB, b: RGB, t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b))
    return r, g, bl


def shade(c: RGB, t: float) -> RGB:
    """Lighter toward white for t > 0, darker toward black for t < 0."""
    return mix(c, WHITE, t) if t >= 0 else mix(c, (0, 0, 0), -t)


@dataclass(frozen=True)
class Palette:
    """The base colour and the shades derived from it; nothing else appears on the product."""

    base: RGB
    alt: RGB  # the contrasting shade patterns use: lighter for dark bases, darker for light ones
    mid: RGB  # halfway between base and alt
    counter: RGB  # a milder shade the other way from alt
    seam: RGB  # construction lines and detail marks

    @classmethod
    def of(cls, base: RGB) -> Palette:
        s = 1 if 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2] < 140 else -1  # +1: a dark base
        alt = shade(base, 0.5 if s > 0 else -0.38)
        return cls(base, alt, mix(base, alt, 0.5), shade(base, -0.3 * s), shade(base, 0.55 * s))


# ---------------------------------------------------------------- patterns and detail marks


@dataclass(frozen=True)
class Brush:
    """What pattern and detail functions draw with; every length is in supersampled canvas pixels."""

    d: ImageDraw.ImageDraw  # draws on the surface that each part is later filled from
    box: Box  # the product's bounding box
    main: Box  # the sketch's main panel
    focus: Pt
    p: float  # pattern period
    u: float  # one sketch unit
    lw: int  # line width
    pal: Palette
    rng: np.random.Generator

    def at(self, fx: float, fy: float) -> Pt:
        """A point inside the main panel, as fractions of its width and height."""
        x0, y0, x1, y1 = self.main
        return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)

    def circle(self, c: Pt, r: float, fill: RGB) -> None:
        self.d.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=fill)

    def grid(self, step: float, jitter: float = 0.0) -> list[Pt]:
        """Centres of a staggered grid covering the product, each moved by up to `jitter` * step."""
        x0, y0, x1, y1 = self.box
        pts = [(x, y) for i, y in enumerate(np.arange(y0 - step / 2, y1 + step, step * 0.87))
               for x in np.arange(x0 - step + (step / 2) * (i % 2), x1 + step, step)]
        moves = self.rng.uniform(-jitter * step, jitter * step, size=(len(pts), 2))
        return [(x + dx, y + dy) for (x, y), (dx, dy) in zip(pts, moves)]

    def blob(self, c: Pt, r: float, n: int = 16) -> list[Pt]:
        """An irregular rounded polygon of mean radius r."""
        a1, a2 = self.rng.uniform(0, 2 * math.pi, 2)
        th = np.linspace(0, 2 * math.pi, n, endpoint=False)
        rr = r * (1 + 0.25 * np.sin(2 * th + a1) + 0.15 * np.sin(3 * th + a2))
        return list(zip(c[0] + rr * np.cos(th), c[1] + rr * np.sin(th)))


def _solid(b: Brush) -> None:
    return None


def _stripe(b: Brush) -> None:
    for y in np.arange(b.box[1] + 0.35 * b.p, b.box[3], b.p):
        b.d.rectangle([b.box[0], y, b.box[2], y + 0.22 * b.p], fill=b.pal.alt)


def _check(b: Brush) -> None:
    (x0, y0, x1, y1), w = b.box, 0.13 * b.p
    xs, ys = np.arange(x0 + 0.4 * b.p, x1, b.p), np.arange(y0 + 0.4 * b.p, y1, b.p)
    for x in xs:
        b.d.rectangle([x, y0, x + w, y1], fill=b.pal.mid)
    for y in ys:
        b.d.rectangle([x0, y, x1, y + w], fill=b.pal.counter)
        for x in xs:
            b.d.rectangle([x, y, x + w, y + w], fill=b.pal.alt)


def _polka_dot(b: Brush) -> None:
    for c in b.grid(b.p):
        b.circle(c, 0.2 * b.p, b.pal.alt)


def _floral(b: Brush) -> None:
    for c in b.grid(1.3 * b.p, jitter=0.2):
        turn = b.rng.uniform(0, 2 * math.pi)
        for k in range(5):
            a = turn + k * 2 * math.pi / 5
            b.circle((c[0] + 0.17 * b.p * math.cos(a), c[1] + 0.17 * b.p * math.sin(a)), 0.13 * b.p, b.pal.alt)
        b.circle(c, 0.08 * b.p, b.pal.seam)


def _leopard(b: Brush) -> None:
    """Rosettes: a mid-tone centre inside a broken ring of arcs, with a loose spot beside each."""
    for c in b.grid(1.2 * b.p, jitter=0.25):
        r = b.rng.uniform(0.2, 0.26) * b.p
        b.d.polygon(b.blob(c, 0.8 * r), fill=b.pal.mid)
        start = b.rng.uniform(0, 360)
        for k in range(3):
            a = start + k * 120 + b.rng.uniform(-10, 10)
            b.d.line(arc(c[0], c[1], r, r, a, a + b.rng.uniform(60, 90), 8), fill=b.pal.alt,
                     width=max(1, round(0.09 * b.p)))
        b.d.polygon(b.blob((c[0] + 0.5 * b.p, c[1] + b.rng.uniform(-0.2, 0.2) * b.p), 0.06 * b.p, 10), fill=b.pal.alt)


def _camo(b: Brush) -> None:
    shades = (b.pal.mid, b.pal.alt, b.pal.counter)
    for i, c in enumerate(b.grid(1.5 * b.p, jitter=0.3)):
        b.d.polygon(b.blob(c, b.rng.uniform(0.38, 0.5) * b.p), fill=shades[i % 3])


def _tie_dye(b: Brush) -> None:
    """Wobbly concentric rings fading between base and alt, drawn as thick closed strokes."""
    (x0, y0, x1, y1), step = b.box, b.p / 14
    cx, cy, phase = (x0 + x1) / 2, (y0 + y1) / 2, b.rng.uniform(0, 2 * math.pi)
    th = np.linspace(0, 2 * math.pi, 41)
    for r in np.arange(step, 0.75 * max(x1 - x0, y1 - y0), step):
        ring = (math.cos(2 * math.pi * r / b.p) - 0.45) / 0.55  # > 0 on about a third of each period
        if ring > 0:
            rr = r * (1 + 0.12 * np.sin(5 * th + phase + 1.5 * r / b.p))
            b.d.line(list(zip(cx + rr * np.cos(th), cy + rr * np.sin(th))),
                     fill=mix(b.pal.base, b.pal.alt, 0.9 * ring), width=math.ceil(step * 1.5))


def _geometric(b: Brush) -> None:
    h = 0.3 * b.p  # diamonds, alternating alt and mid
    for i, y in enumerate(np.arange(b.box[1], b.box[3] + b.p, b.p)):
        for j, x in enumerate(np.arange(b.box[0], b.box[2] + b.p, b.p)):
            b.d.polygon([(x, y - h), (x + h, y), (x, y + h), (x - h, y)], fill=b.pal.alt if (i + j) % 2 else b.pal.mid)


def _colour_block(b: Brush) -> None:
    x0, y0, x1, y1 = b.box
    b.d.rectangle([x0, y0 + 0.78 * (y1 - y0), x1, y1], fill=b.pal.alt)


PATTERNS: dict[str, Callable[[Brush], None]] = {
    "solid": _solid, "stripe": _stripe, "check": _check, "polka-dot": _polka_dot, "floral": _floral,
    "leopard": _leopard, "camo": _camo, "tie-dye": _tie_dye, "geometric": _geometric, "colour-block": _colour_block,
}


def _pocket(b: Brush) -> None:
    (x0, y0), (x1, y1) = b.at(0.3, 0.58), b.at(0.7, 0.86)
    b.d.rounded_rectangle([x0, y0, x1, y1], radius=1.5 * b.u, fill=b.pal.base, outline=b.pal.seam, width=b.lw)
    b.d.line([(x0, y0 + 1.5 * b.u), (x1, y0 + 1.5 * b.u)], fill=b.pal.seam, width=b.lw)


def _zip(b: Brush) -> None:
    (x, y0), (_, y1) = b.at(0.5, 0.0), b.at(0.5, 1.0)
    b.d.line([(x, y0), (x, y1)], fill=OUTLINE, width=b.lw * 2)
    b.d.rectangle([x - 1.2 * b.u, y0, x + 1.2 * b.u, y0 + 3.5 * b.u], fill=b.pal.seam, outline=OUTLINE, width=b.lw)


def _drawstring(b: Brush) -> None:
    (cx, y0), h = b.at(0.5, 0.0), b.main[3] - b.main[1]
    for s in (-1, 1):
        end = (cx + s * 4 * b.u, y0 + 0.35 * h)
        b.d.line([(cx + s * 3 * b.u, y0), end], fill=b.pal.seam, width=b.lw * 2)
        b.circle(end, 1.1 * b.u, b.pal.seam)


def _logo_patch(b: Brush) -> None:
    (x, y), u = b.focus, b.u
    b.d.rectangle([x - 4.5 * u, y - 2.5 * u, x + 4.5 * u, y + 2.5 * u], fill=b.pal.alt, outline=b.pal.seam, width=b.lw)


def _embroidery(b: Brush) -> None:
    x, y = b.focus[0] + 1.5 * b.u, b.focus[1] + 5 * b.u  # below the logo spot, so both can show
    for k in range(5):
        a = k * 2 * math.pi / 5 - math.pi / 2
        b.circle((x + 1.6 * b.u * math.cos(a), y + 1.6 * b.u * math.sin(a)), 1.2 * b.u, b.pal.alt)
    b.circle((x, y), 0.8 * b.u, b.pal.seam)


def _reflective(b: Brush) -> None:
    (x0, y), (x1, _) = b.at(0, 0.6), b.at(1, 0.6)
    b.d.rectangle([x0, y, x1, y + 1.6 * b.u], fill=mix(b.pal.base, WHITE, 0.8))


def _ribbed(b: Brush) -> None:
    x0, _, x1, y1 = b.main
    for x in np.arange(x0 + b.u, x1, 1.6 * b.u):
        b.d.line([(x, y1 - 5 * b.u), (x, y1)], fill=b.pal.seam, width=b.lw)


def _contrast_stitching(b: Brush) -> None:
    x0, y0, x1, y1 = b.main
    for dash in dashes([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], 2 * b.u, 1.2 * b.u):
        b.d.line(dash, fill=b.pal.alt, width=b.lw)


def _quilted(b: Brush) -> None:
    (x0, y0, x1, y1), step = b.main, 8 * b.u
    for c in np.arange(y0 - x1, y1 - x0, step):  # lines y = x + c, clipped to the panel
        lo, hi = max(x0, y0 - c), min(x1, y1 - c)
        b.d.line([(lo, lo + c), (hi, hi + c)], fill=b.pal.seam, width=b.lw)
    for c in np.arange(x0 + y0, x1 + y1, step):  # lines y = c - x
        lo, hi = max(x0, c - y1), min(x1, c - y0)
        b.d.line([(lo, c - lo), (hi, c - hi)], fill=b.pal.seam, width=b.lw)


def _pleats(b: Brush) -> None:
    for f in np.linspace(0.15, 0.85, 6):
        b.d.line([b.at(f, 0.45), b.at(f, 1.0)], fill=b.pal.seam, width=b.lw)


def _scallops(b: Brush, r: float, fill: RGB | None) -> None:
    """Half-circles along the bottom of the main panel: open for ruffles, filled for lace."""
    x0, _, x1, y1 = b.main
    for x in np.arange(x0 + r, x1 - r / 2, 2 * r):
        box = [x - r, y1 - r, x + r, y1 + r]
        if fill is None:
            b.d.arc(box, 0, 180, fill=b.pal.seam, width=b.lw)
        else:
            b.d.chord(box, 0, 180, fill=fill, outline=b.pal.seam, width=b.lw)


def _ruffles(b: Brush) -> None:
    _scallops(b, 2.5 * b.u, None)


def _lace_trim(b: Brush) -> None:
    _scallops(b, 1.3 * b.u, mix(b.pal.base, WHITE, 0.75))


def _tassels(b: Brush) -> None:
    for c in (b.at(0, 0), b.at(1, 0), b.at(0, 1), b.at(1, 1)):
        for dx in (-1, 0, 1):
            b.d.line([c, (c[0] + dx * b.u, c[1] + 4 * b.u)], fill=b.pal.seam, width=b.lw)
        b.circle(c, 1.2 * b.u, b.pal.alt)


def _grip_ring(b: Brush) -> None:
    (x, y), r = b.at(0.5, 0.55), 6 * b.u
    b.d.ellipse([x - r, y - r, x + r, y + r], fill=b.pal.mid, outline=OUTLINE, width=b.lw)
    b.circle((x, y), 3.5 * b.u, b.pal.base)


DETAILS: dict[str, Callable[[Brush], None]] = {
    "pocket": _pocket, "zip": _zip, "drawstring": _drawstring, "logo-patch": _logo_patch,
    "embroidery": _embroidery, "reflective": _reflective, "ribbed": _ribbed,
    "contrast-stitching": _contrast_stitching, "quilted": _quilted, "pleats": _pleats, "ruffles": _ruffles,
    "lace-trim": _lace_trim, "tassels": _tassels, "grip-ring": _grip_ring,
}  # "handle" and "scouring-side" change the shape, so the category functions draw them


# ---------------------------------------------------------------- material textures (final pixels)


def texture(kind: str, n: int, rng: np.random.Generator, box: Box) -> np.ndarray:
    """An (n, n) float32 offset added to every channel inside the product, within about +-12 levels
    (the glossy highlight reaches +15). `box` is the product's bounding box in final pixels."""
    noise = rng.standard_normal((n, n)).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    x0, y0, x1, y1 = box
    if kind == "ribs":  # knit: fine vertical ribs
        return 6 * np.cos(2 * np.pi * xx / max(2.0, n / 80)) + 1.5 * noise
    if kind == "twill":  # denim: fine diagonals
        return 6 * np.cos(2 * np.pi * (xx + yy) / max(2.5, n / 64)) + 2 * noise
    if kind == "grain":  # leather: soft blotchy noise
        g = (noise + np.roll(noise, 1, 0) + np.roll(noise, 1, 1) + np.roll(noise, (1, 1), (0, 1))) / 2
        return np.clip(5 * g, -12, 12)
    if kind == "weave":  # canvas, linen: crosshatch
        p = max(2.0, n / 70)
        return 4 * np.cos(2 * np.pi * xx / p) + 4 * np.cos(2 * np.pi * yy / p) + 1.5 * noise
    if kind == "speckle":  # fleece, cashmere, microfiber
        return np.clip(4 * noise, -10, 10)
    if kind == "wales":  # corduroy: wide vertical cords
        return 16 * (np.abs(np.sin(np.pi * xx / max(3.0, n / 40))) - 0.64) + noise
    if kind == "brushed":  # stainless steel: a cylinder's light band plus vertical brush streaks
        streaks = np.tile(rng.standard_normal(n).astype(np.float32), (n, 1))
        return 9 * np.sin(2 * np.pi * (xx - x0) / max(1.0, x1 - x0)) + 3 * streaks
    if kind == "gloss":  # silicone, tpu, tritan: one slanted highlight
        band = (xx - x0 - 0.3 * (x1 - x0) + 0.25 * (yy - y0)) / max(1.0, 0.07 * (x1 - x0))
        return 14 * np.exp(-band ** 2) + noise
    if kind == "sheen":  # silk: broad soft waves
        return 7 * np.sin(2 * np.pi * (xx + 0.5 * yy) / (0.45 * n)) + noise
    if kind == "smooth":  # synthetics
        return 2 * noise
    raise GenerationError(f"unknown texture {kind!r}")


TEXTURES: dict[str, str] = {
    "cotton": "ribs", "organic-cotton": "ribs", "spandex": "ribs", "wool": "ribs", "bamboo-fiber": "ribs",
    "denim": "twill", "leather": "grain", "vegan-leather": "grain", "canvas": "weave", "linen": "weave",
    "fleece": "speckle", "cashmere": "speckle", "microfiber": "speckle", "corduroy": "wales",
    "stainless-steel": "brushed", "silicone": "gloss", "tpu": "gloss", "tritan": "gloss",
    "polyester": "smooth", "recycled-polyester": "smooth", "nylon": "smooth", "silk": "sheen",
    "velvet": "speckle", "satin": "sheen", "chiffon": "smooth", "mesh": "weave", "terry": "speckle", "tweed": "weave",
}
