"""The procedural "flat technical sketch": a clean, deterministic drawing of a product from its spec.

Each category has a draw function returning a `Sketch` (filled polygons plus construction lines) in a
100x100 unit space, y pointing down. `render_flat` fits the sketch to ~80% of the canvas, fills it
with the spec colour and pattern (pattern colours are shades of the base colour, so the base stays
dominant), outlines it, adds detail marks and a faint material texture. Drawing happens at 4x the
final size and is downsampled for antialiasing. The same spec always gives the same pixels: the only
randomness is a numpy generator seeded with the CRC32 of `spec.text()`.

`product_mask` gives the silhouette alone (255 inside, 0 outside); the image checker judges colour
inside it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from generation.concepts.spec import DesignSpec
from generation.errors import GenerationError
from generation.taxonomy import Taxonomy

RGB = tuple[int, int, int]
Pt = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

MIN_SIZE, MAX_SIZE = 32, 1024
SUPERSAMPLE = 4
FILL = 0.8  # the product's longer side as a fraction of the canvas side
MIN_PERIOD = 12  # final pixels: small images get fewer, larger pattern motifs rather than mush
FULL_LINES = 128  # below this size construction lines fade toward the base colour and dashes go
OUTLINE: RGB = (38, 38, 42)
WHITE: RGB = (255, 255, 255)


# ---------------------------------------------------------------- sketch data and geometry helpers


@dataclass(frozen=True)
class Part:
    """One filled polygon. Parts are painted in order, each outlined, so later parts overlap earlier."""

    points: tuple[Pt, ...]
    tone: float | None = None  # None: base colour + pattern; a number: flat shade (+ lighter, - darker)
    alpha: float = 1.0  # below 1: a translucent overlay (sheer highlight) that is not part of the mask
    cut: bool = False  # a hole: painted white and removed from the mask
    outline: bool = True


@dataclass(frozen=True)
class Line:
    """A construction line (seam, hem, fold) drawn on top of the filled parts."""

    points: tuple[Pt, ...]
    dashed: bool = False
    minor: bool = False  # ribs, eyelets, stitching: left out of small images, where they turn to mush


@dataclass
class Sketch:
    parts: list[Part]
    lines: list[Line]
    main: Box  # the main panel, where detail marks go
    focus: Pt  # where a logo or an embroidered motif sits
    handled: frozenset[str] = field(default_factory=frozenset)  # details drawn by the shape itself


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> list[Pt]:
    """Points on an ellipse from angle a0 to a1 in degrees (0 = right, 90 = down, 270 = up)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> list[Pt]:
    return arc(cx, cy, rx, ry, 0, 360, n + 1)[:-1]


def rrect(x0: float, y0: float, x1: float, y1: float, r: float) -> list[Pt]:
    """A rounded rectangle as a polygon."""
    return (arc(x0 + r, y0 + r, r, r, 180, 270, 8) + arc(x1 - r, y0 + r, r, r, 270, 360, 8)
            + arc(x1 - r, y1 - r, r, r, 0, 90, 8) + arc(x0 + r, y1 - r, r, r, 90, 180, 8))


def arch(cx: float, base: float, rx: float, ry: float, t: float) -> list[Pt]:
    """An upside-down U band of thickness t (a bag handle)."""
    return arc(cx, base, rx, ry, 180, 360) + arc(cx, base, rx - t, ry - t, 360, 180)


def bezier(a: Pt, c: Pt, b: Pt, n: int = 12) -> list[Pt]:
    return [((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * c[0] + t * t * b[0],
             (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * c[1] + t * t * b[1]) for t in np.linspace(0, 1, n)]


def mirror(pts: list[Pt], cx: float = 50) -> list[Pt]:
    """The left-right mirror image of a path, reversed so it continues a closed polygon."""
    return [(2 * cx - x, y) for x, y in reversed(pts)]


def lerp(a: Pt, b: Pt, t: float) -> Pt:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def rotate(pts: list[Pt], deg: float, c: Pt = (50, 50)) -> list[Pt]:
    s, k = math.sin(math.radians(deg)), math.cos(math.radians(deg))
    return [(c[0] + (x - c[0]) * k - (y - c[1]) * s, c[1] + (x - c[0]) * s + (y - c[1]) * k) for x, y in pts]


def P(pts: list[Pt], **kw: object) -> Part:
    return Part(tuple(pts), **kw)  # type: ignore[arg-type]


def L(pts: list[Pt], dashed: bool = False, minor: bool = False) -> Line:
    return Line(tuple(pts), dashed, minor or dashed)


def fringe(x0: float, x1: float, y0: float, y1: float, vertical: bool = False) -> list[Part]:
    """Thin strands along an edge: across x0..x1 hanging y0..y1 (or, if vertical, the transpose)."""
    n = max(3, int((x1 - x0) / 3.2))
    xs = np.linspace(x0 + 0.9, x1 - 0.9, n)
    strands = [[(x - 0.9, y0), (x + 0.9, y0), (x + 0.7, y1), (x - 0.7, y1)] for x in xs]
    if vertical:
        strands = [[(y, x) for x, y in s] for s in strands]
    return [P(s) for s in strands]


# ---------------------------------------------------------------- one draw function per category


def _tshirt(spec: DesignSpec) -> Sketch:
    w = {"oversized": 29, "slim": 21}.get(spec.silhouette or "", 25)
    hem = 70 if spec.silhouette == "cropped" else 88
    drop = 5 if spec.silhouette == "oversized" else 0
    sh, arm, cuff_o, cuff_i = (w - 3, 18 + drop), (w, 36 + drop), (w + 15, 33 + drop), (w + 8, 43 + drop)
    body = [(41, 13), (50 - sh[0], sh[1]), (50 - arm[0], arm[1]), (50 - w, hem), (50 + w, hem),
            (50 + arm[0], arm[1]), (50 + sh[0], sh[1]), (59, 13)] + arc(50, 13, 9, 7, 0, 180)
    sleeve_r = [(50 + sh[0], sh[1]), (50 + cuff_o[0], cuff_o[1]), (50 + cuff_i[0], cuff_i[1]), (50 + arm[0], arm[1])]
    sleeve_l = [(100 - x, y) for x, y in sleeve_r]
    lines = [L(arc(50, 13, 11.5, 10, 8, 172)), L([(51 - w, hem - 3), (49 + w, hem - 3)], dashed=True)]
    for s in (sleeve_r, sleeve_l):
        lines.append(L([lerp(s[1], s[0], 0.16), lerp(s[2], s[3], 0.16)], dashed=True))
    return Sketch([P(sleeve_r), P(sleeve_l), P(body)], lines, (50 - w, 24, 50 + w, hem), (50 + w * 0.45, 32))


def _hoodie(spec: DesignSpec) -> Sketch:
    w = {"oversized": 31, "slim": 23}.get(spec.silhouette or "", 27)
    hem = 74 if spec.silhouette == "cropped" else 90
    sh, arm, co, ci = (50 + w - 2, 24), (50 + w, 40), (50 + w + 13, 84), (50 + w + 4, 86)
    body = [(40, 20), (100 - sh[0], sh[1]), (100 - arm[0], arm[1]), (50 - w, hem), (50 + w, hem), arm, sh, (60, 20)]
    sleeve = [sh, co, ci, arm]
    cuff = [lerp(sh, co, 0.9), co, ci, lerp(arm, ci, 0.9)]
    flip = lambda pts: [(100 - x, y) for x, y in pts]  # noqa: E731
    pocket = [(39, hem - 31), (61, hem - 31), (68, hem - 20), (68, hem - 9), (32, hem - 9), (32, hem - 20)]
    parts = [P(ellipse(50, 17, 15.5, 15)), P(sleeve), P(flip(sleeve)), P(cuff), P(flip(cuff)), P(body),
             P(rrect(51 - w, hem - 7, 49 + w, hem, 1)), P(pocket), P(ellipse(50, 17, 8.5, 11), tone=-0.2)]
    lines = [L(arc(50, 17, 11, 13.5, 200, 340)), L([(47, 27), (46, 42)]), L([(53, 27), (54, 43)])]
    lines += [L([(51 - w + k, hem - 6), (51 - w + k, hem - 1)], minor=True) for k in range(3, 2 * w - 3, 4)]
    return Sketch(parts, lines, (50 - w, 30, 50 + w, hem - 8), (50 + w * 0.45, 36), frozenset({"drawstring", "pocket"}))


def _dress(spec: DesignSpec) -> Sketch:
    hw = {"a-line": 31, "slim": 17, "oversized": 30}.get(spec.silhouette or "", 25)
    hem = 97 if spec.silhouette == "maxi" else 84
    half = [(62, 6), (60, 15), (65, 23), (61, 40), (50 + hw, hem - 4)]
    body = ([(38, 6)] + arc(50, 6, 8, 12, 180, 0)[1:-1] + half + arc(50, hem - 4, hw, 4, 0, 180)
            + [(100 - x, y) for x, y in reversed(half)])
    lines = [L(arc(50, 36, 11.5, 4, 20, 160)), L(arc(50, 6, 10, 14, 170, 10))]
    for k in (-0.55, -0.2, 0.2, 0.55):
        lines.append(L([(50 + 9 * k, 43), (50 + hw * k * 1.1, hem - 1)]))
    return Sketch([P(body)], lines, (50 - hw * 0.7, 20, 50 + hw * 0.7, hem - 4), (56, 28))


def _leggings(spec: DesignSpec) -> Sketch:
    top = 0 if spec.silhouette == "high-waist" else 6
    ank = 76 if spec.silhouette == "cropped" else 97
    ao, ai = (68, 2) if spec.silhouette == "flared" else (61, 3.5)
    right = [(68, top), (69.5, 22), (67, 48), (63.5, 70), (ao, ank), (50 + ai, ank), (53, 70), (51.5, 44), (50, 36)]
    body = right + mirror(right[:-1])
    band = [(32, top), (68, top), (68.7, 13), (31.3, 13)]
    lines = [L([(50, 13), (50, 36)]), L([(ao - 0.5, ank - 3), (50 + ai + 0.3, ank - 3)], dashed=True),
             L([(100 - ao + 0.5, ank - 3), (50 - ai - 0.3, ank - 3)], dashed=True)]
    return Sketch([P(body), P(band)], lines, (34, 16, 66, 60), (60, 24))


def _tights(spec: DesignSpec) -> Sketch:
    right = [(64, 4), (65.5, 24), (62, 50), (59, 72), (58.5, 88)] + arc(55.5, 92, 4.5, 5, 0, 180)[1:] + \
        [(51.5, 72), (51, 40), (50, 32)]
    legs = right + mirror(right[:-1])
    band = rrect(35.5, 3, 64.5, 10, 1)
    sheer = 0.45 if spec.silhouette == "sheer" else 0.3
    glow = [P([(56.8, 36), (58.3, 36), (56.3, 86), (55.6, 86)], tone=0.55, alpha=sheer, outline=False)]
    glow.append(P([(100 - x, y) for x, y in glow[0].points], tone=0.55, alpha=sheer, outline=False))
    lines = [L(arc(50, 34, 14.5, 8, 200, 340)), L([(50, 10), (50, 32)]),
             L(arc(55.5, 91, 4, 3, 200, 340)), L(arc(44.5, 91, 4, 3, 200, 340))]
    return Sketch([P(legs), *glow, P(band, tone=-0.1)], lines, (38, 12, 62, 40), (58, 22))


def _sneakers(spec: DesignSpec) -> Sketch:
    th = 13 if spec.silhouette == "chunky" else 8
    lo = 8 if spec.silhouette == "low-top" else 0
    upper = ([(8, 72)] + bezier((8, 72), (4, 50), (12, 36 + lo))[1:] + bezier((12, 36 + lo), (24, 32 + lo), (30, 42 + lo))[1:]
             + bezier((30, 42 + lo), (37, 45 + lo), (42, 36 + lo))[1:] + [(44, 26 + lo), (52, 25 + lo)]
             + bezier((55, 31 + lo), (68, 40 + lo / 2), (80, 50))
             + bezier((80, 50), (95, 52), (96, 66))[1:] + [(96, 72)])
    eyestay = bezier((45, 37 + lo), (60, 47 + lo / 2), (73, 55))
    laces = [L([lerp((55, 31 + lo), (80, 50), t), eyestay[round(t * 11)]]) for t in (0.1, 0.35, 0.6)]
    lines = [L(eyestay), L(bezier((77, 72), (77, 57), (93, 56))), L(bezier((7, 52), (22, 50), (27, 72))),
             L(bezier((27, 64), (48, 50), (70, 62))),
             L([(6, 70 + th / 2), (95, 70 + th / 2)], dashed=True), *laces]
    return Sketch([P(upper), P(rrect(4, 70, 97, 70 + th, th / 2.2), tone=0.0)], lines, (14, 50, 72, 68), (40, 58))


def _cap(spec: DesignSpec) -> Sketch:
    tip = (103, 63) if spec.silhouette == "flat-brim" else (101, 70)
    crown = arc(44, 66, 34, 46, 180, 360, 40) + arc(44, 66, 34, 4, 0, 180, 16)[1:-1]
    brim = bezier((52, 65), (82, 54), tip) + bezier(tip, (84, 78), (54, 72))[1:]
    lines = [L(arc(44, 66, 16, 46, 272, 358)), L(arc(44, 66, 12, 46, 182, 268)), L([(44, 20), (44, 66)]),
             L(bezier((58, 65), (82, 58), (tip[0] - 4, tip[1] + 1)), dashed=True)]
    lines += [L(ellipse(x, y, 1.3, 1.3, 12), minor=True) for x, y in ((26, 38), (62, 37))]
    return Sketch([P(crown), P(brim), P(ellipse(44, 20.5, 3.5, 2.2))], lines, (46, 30, 60, 60), (52, 46))


def _tote(spec: DesignSpec) -> Sketch:
    if spec.silhouette == "slouchy":
        body = [(20, 38), (80, 38)] + arc(74, 84, 12, 10, 345, 450)[1:] + arc(26, 84, 12, 10, 90, 195)[:-1]
    else:
        body = rrect(18, 38, 82, 95, 2)
    parts = [P(arch(50, 39, 17, 33, 3.6)), P(body), P(arch(50, 47, 19, 34, 3.6))]
    lines = [L([(20, 42), (80, 42)], dashed=True)]
    for x in (31, 65.4):
        lines += [L([(x, 43), (x + 3.6, 43), (x + 3.6, 47), (x, 47), (x, 43), (x + 3.6, 47)], minor=True)]
    return Sketch(parts, lines, (22, 48, 78, 92), (50, 66))


def _scarf(spec: DesignSpec) -> Sketch:
    if spec.silhouette == "square":
        y0, y1, x0, x1 = 12, 88, 12, 88
    else:
        y0, y1, x0, x1 = (40, 60, 6, 94) if spec.silhouette == "maxi" else (34, 66, 9, 91)
    parts = [P(rrect(x0, y0, x1, y1, 1))] + fringe(y0, y1, x0 - 7, x0 + 0.5, True) + fringe(y0, y1, x1 - 0.5, x1 + 7, True)
    lines = [L([(x0 + 1, y0 + 2), (x1 - 1, y0 + 2)], dashed=True), L([(x0 + 1, y1 - 2), (x1 - 1, y1 - 2)], dashed=True)]
    return Sketch(parts, lines, (x0 + 4, y0 + 2, x1 - 4, y1 - 2), (x1 - 14, (y0 + y1) / 2), frozenset({"tassels"}))


def _socks(spec: DesignSpec) -> Sketch:
    top = {"ankle": 36, "knee-high": -30}.get(spec.silhouette or "", 6)
    body = ([(30, top), (54, top), (54, 50), (64, 56), (80, 58)] + arc(84, 70, 11, 12, 270, 450)
            + [(42, 82)] + arc(40, 68, 13, 14, 90, 180) + [(29, 50)])
    lines = [L([(x, top + 1), (x, top + 8)], minor=True) for x in range(33, 53, 3)]
    lines += [L(arc(43, 68, 9, 12, 100, 200)), L(arc(81, 70, 6, 12, 285, 435))]
    return Sketch([P(body), P([(30, top), (54, top), (54, top + 9), (30, top + 9)])], lines,
                  (31, top + 11, 53, 56), (42, (top + 50) / 2 + 4))


def _cleaning_cloth(spec: DesignSpec) -> Sketch:
    r, s = 5, 16
    cloth = (arc(s + r, s + r, r, r, 180, 270, 6) + arc(100 - s - r, s + r, r, r, 270, 360, 6)
             + [(100 - s, 62), (62, 100 - s)] + arc(s + r, 100 - s - r, r, r, 90, 180, 6))
    flap = [(100 - s, 62), (62, 100 - s), (66, 66)]
    scour = "scouring-side" in spec.details
    border = [(20, 20), (80, 20), (80, 60), (60, 80), (20, 80), (20, 20)]
    lines = [L(rotate(border, -8), dashed=True)]
    if scour:
        lines += [L(rotate([lerp((84, 62), (62, 84), t), lerp((66, 66), (62, 84), t)], -8)) for t in (0.3, 0.6)]
    parts = [P(rotate(cloth, -8)), P(rotate(flap, -8), tone=-0.3 if scour else 0.2)]
    return Sketch(parts, lines, (24, 24, 70, 70), (34, 34), frozenset({"scouring-side"}))


def _pillow(lo: float, hi: float, bow: float) -> list[Pt]:
    m = (lo + hi) / 2
    return (bezier((lo, lo), (m, lo + bow), (hi, lo))[:-1] + bezier((hi, lo), (hi - bow, m), (hi, hi))[:-1]
            + bezier((hi, hi), (m, hi - bow), (lo, hi))[:-1] + bezier((lo, hi), (lo + bow, m), (lo, lo))[:-1])


def _cushion(spec: DesignSpec) -> Sketch:
    lines = [L(_pillow(16, 84, 9) + [(16, 16)], dashed=True)]
    lines += [L([(x, y), lerp((x, y), (50, 50), 0.18)]) for x, y in ((12, 12), (88, 12), (88, 88), (12, 88))]
    return Sketch([P(_pillow(12, 88, 10))], lines, (24, 24, 76, 76), (50, 50))


def _throw_blanket(spec: DesignSpec) -> Sketch:
    parts = [P(rrect(10, 30, 90, 82, 3)), P(rrect(9, 26, 91, 78, 3)), P(rrect(8, 20, 92, 72, 3)),
             P([(70, 20), (92, 20), (92, 42)], tone=-0.2)]
    if spec.silhouette == "fringed-edge":
        parts += fringe(20, 72, 1.5, 8.5, True) + fringe(20, 72, 91.5, 98.5, True)
    lines = [L([(12, 24), (66, 24)], dashed=True), L([(12, 68), (88, 68)], dashed=True), L([(12, 24), (12, 68)], dashed=True)]
    return Sketch(parts, lines, (14, 28, 86, 66), (30, 40))


def _phone_case(spec: DesignSpec) -> Sketch:
    bump = 2.5 if spec.silhouette == "rugged" else 0
    parts = [P(rrect(72, 20, 73.8 + bump / 2, 30, 0.8)), P(rrect(72, 34, 73.8 + bump / 2, 42, 0.8)),
             P(rrect(28 - bump, 4 - bump, 72 + bump, 96 + bump, 9 + bump)), P(rrect(33, 9, 51, 28, 5), cut=True)]
    lines = [L(rrect(30, 6, 70, 94, 7) + [(30, 13)])]
    lines += [L(ellipse(x, y, 3, 3, 16) + [(x + 3, y)]) for x, y in ((38, 14.5), (46, 14.5), (38, 22.5))]
    return Sketch(parts, lines, (32, 32, 68, 90), (50, 60))


def _tumbler(spec: DesignSpec) -> Sketch:
    t, b = {"tall": (16, 97), "compact": (42, 92)}.get(spec.silhouette or "", (28, 94))
    body = [(32, t), (68, t), (65, b - 3)] + arc(50, b - 3, 15, 3, 0, 180)[1:-1] + [(35, b - 3)]
    parts = [P(body), P(rrect(30.5, t - 11, 69.5, t + 1, 2), tone=0.0), P(rrect(44, t - 14, 56, t - 10, 1), tone=0.0)]
    if "handle" in spec.details:
        m = (t + b) / 2
        parts.insert(0, P(arc(66, m, 13, 16, 270, 450) + arc(66, m, 8, 11, 450, 270)))
    lines = [L(arc(50, t + 6, 17.8, 2.5, 10, 170)), L(arc(50, b - 11, 15.8, 2.5, 10, 170))]
    return Sketch(parts, lines, (36, t + 10, 64, b - 12), (50, (t + b) / 2), frozenset({"handle"}))


SHAPES: dict[str, Callable[[DesignSpec], Sketch]] = {
    "t-shirt": _tshirt, "dress": _dress, "hoodie": _hoodie, "leggings": _leggings, "sneakers": _sneakers,
    "tote-bag": _tote, "cap": _cap, "scarf": _scarf, "socks": _socks, "tights": _tights,
    "cleaning-cloth": _cleaning_cloth, "cushion-cover": _cushion, "throw-blanket": _throw_blanket,
    "phone-case": _phone_case, "tumbler": _tumbler,
}


# ---------------------------------------------------------------- colours and patterns


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def shade(c: RGB, t: float) -> RGB:
    """Lighter toward white for t > 0, darker toward black for t < 0."""
    return mix(c, WHITE, t) if t >= 0 else mix(c, (0, 0, 0), -t)


@dataclass(frozen=True)
class Palette:
    """The base colour and the shades derived from it; nothing else appears on the product."""

    base: RGB
    alt: RGB  # the contrasting shade used by patterns
    mid: RGB  # halfway between base and alt
    counter: RGB  # a milder shade the other way from alt (darker if alt is lighter)
    seam: RGB  # construction lines and detail marks

    @classmethod
    def of(cls, base: RGB) -> Palette:
        s = 1 if 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2] < 140 else -1  # dark: go lighter
        alt = shade(base, 0.5 if s > 0 else -0.38)
        return cls(base, alt, mix(base, alt, 0.5), shade(base, -0.3 * s), shade(base, 0.55 * s))


def _grid(box: Box, step: float, rng: np.random.Generator, jitter: float = 0.0) -> list[Pt]:
    """Centres of a staggered grid covering `box`, each moved by up to `jitter` * step."""
    x0, y0, x1, y1 = box
    pts = []
    for i, y in enumerate(np.arange(y0 - step / 2, y1 + step, step * 0.87)):
        for x in np.arange(x0 - step + (step / 2) * (i % 2), x1 + step, step):
            pts.append((x, y))
    moves = rng.uniform(-jitter * step, jitter * step, size=(len(pts), 2))
    return [(x + dx, y + dy) for (x, y), (dx, dy) in zip(pts, moves)]


def _blob(c: Pt, r: float, rng: np.random.Generator, n: int = 16) -> list[Pt]:
    a1, a2 = rng.uniform(0, 2 * math.pi, 2)
    th = np.linspace(0, 2 * math.pi, n, endpoint=False)
    rr = r * (1 + 0.25 * np.sin(2 * th + a1) + 0.15 * np.sin(3 * th + a2))
    return list(zip(c[0] + rr * np.cos(th), c[1] + rr * np.sin(th)))


def _circle(d: ImageDraw.ImageDraw, c: Pt, r: float, fill: RGB) -> None:
    d.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=fill)


PatternFn = Callable[[ImageDraw.ImageDraw, Box, float, Palette, np.random.Generator], None]


def _solid(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    return None


def _stripe(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    for y in np.arange(box[1] + 0.35 * p, box[3], p):
        d.rectangle([box[0], y, box[2], y + 0.22 * p], fill=pal.alt)


def _check(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    b, xs, ys = 0.13 * p, np.arange(box[0] + 0.4 * p, box[2], p), np.arange(box[1] + 0.4 * p, box[3], p)
    for x in xs:
        d.rectangle([x, box[1], x + b, box[3]], fill=pal.mid)
    for y in ys:
        d.rectangle([box[0], y, box[2], y + b], fill=pal.counter)
        for x in xs:
            d.rectangle([x, y, x + b, y + b], fill=pal.alt)


def _polka(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    for c in _grid(box, p, rng):
        _circle(d, c, 0.2 * p, pal.alt)


def _floral(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    for c in _grid(box, 1.3 * p, rng, jitter=0.2):
        turn = rng.uniform(0, 2 * math.pi)
        for k in range(5):
            a = turn + k * 2 * math.pi / 5
            _circle(d, (c[0] + 0.17 * p * math.cos(a), c[1] + 0.17 * p * math.sin(a)), 0.13 * p, pal.alt)
        _circle(d, c, 0.08 * p, pal.seam)


def _leopard(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    """Rosettes: a mid-tone centre inside a broken ring of dark arcs, with a few loose spots."""
    for c in _grid(box, 1.2 * p, rng, jitter=0.25):
        r = rng.uniform(0.2, 0.26) * p
        d.polygon(_blob(c, 0.8 * r, rng), fill=pal.mid)
        start = rng.uniform(0, 360)
        for k in range(3):
            a = start + k * 120 + rng.uniform(-10, 10)
            d.arc([c[0] - r, c[1] - r, c[0] + r, c[1] + r], a, a + rng.uniform(60, 90), fill=pal.alt, width=max(1, round(0.09 * p)))
        spot = (c[0] + 0.5 * p, c[1] + rng.uniform(-0.2, 0.2) * p)
        d.polygon(_blob(spot, 0.06 * p, rng, 10), fill=pal.alt)


def _camo(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    shades = (pal.mid, pal.alt, pal.counter)
    for i, c in enumerate(_grid(box, 1.5 * p, rng, jitter=0.3)):
        d.polygon(_blob(c, rng.uniform(0.38, 0.5) * p, rng), fill=shades[i % 3])


def _tie_dye(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    phase, th = rng.uniform(0, 2 * math.pi), np.linspace(0, 2 * math.pi, 40, endpoint=False)
    for r in np.arange(0.75 * max(box[2] - box[0], box[3] - box[1]), 0, -p / 8):
        ring = max(0.0, (math.cos(2 * math.pi * r / p) - 0.45) / 0.55)
        rr = r * (1 + 0.12 * np.sin(5 * th + phase + 1.5 * r / p))
        d.polygon(list(zip(cx + rr * np.cos(th), cy + rr * np.sin(th))), fill=mix(pal.base, pal.alt, 0.9 * ring))


def _geometric(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    h = 0.3 * p
    for i, y in enumerate(np.arange(box[1], box[3] + p, p)):
        for j, x in enumerate(np.arange(box[0], box[2] + p, p)):
            d.polygon([(x, y - h), (x + h, y), (x, y + h), (x - h, y)], fill=pal.alt if (i + j) % 2 else pal.mid)


def _colour_block(d: ImageDraw.ImageDraw, box: Box, p: float, pal: Palette, rng: np.random.Generator) -> None:
    d.rectangle([box[0], box[1] + 0.78 * (box[3] - box[1]), box[2], box[3]], fill=pal.alt)


PATTERNS: dict[str, PatternFn] = {
    "solid": _solid, "stripe": _stripe, "check": _check, "polka-dot": _polka, "floral": _floral,
    "leopard": _leopard, "camo": _camo, "tie-dye": _tie_dye, "geometric": _geometric, "colour-block": _colour_block,
}


# ---------------------------------------------------------------- detail marks (drawn inside `main`)


@dataclass(frozen=True)
class Marker:
    d: ImageDraw.ImageDraw
    main: Box  # canvas pixels
    focus: Pt
    u: float  # canvas pixels per sketch unit
    pal: Palette
    lw: int  # line width

    def at(self, fx: float, fy: float) -> Pt:
        x0, y0, x1, y1 = self.main
        return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)


def _pocket(m: Marker) -> None:
    (a, b), (c, e) = m.at(0.3, 0.58), m.at(0.7, 0.86)
    m.d.rounded_rectangle([a, b, c, e], radius=1.5 * m.u, fill=m.pal.base, outline=m.pal.seam, width=m.lw)
    m.d.line([(a, b + 1.5 * m.u), (c, b + 1.5 * m.u)], fill=m.pal.seam, width=m.lw)


def _zip(m: Marker) -> None:
    (x, y0), (_, y1) = m.at(0.5, 0.0), m.at(0.5, 1.0)
    m.d.line([(x, y0), (x, y1)], fill=OUTLINE, width=m.lw * 2)
    m.d.rectangle([x - 1.2 * m.u, y0, x + 1.2 * m.u, y0 + 3.5 * m.u], fill=m.pal.seam, outline=OUTLINE, width=m.lw)


def _drawstring(m: Marker) -> None:
    (cx, y0), h = m.at(0.5, 0.0), m.main[3] - m.main[1]
    for s in (-1, 1):
        end = (cx + s * 4 * m.u, y0 + 0.35 * h)
        m.d.line([(cx + s * 3 * m.u, y0), end], fill=m.pal.seam, width=m.lw * 2)
        _circle(m.d, end, 1.1 * m.u, m.pal.seam)


def _logo_patch(m: Marker) -> None:
    x, y = m.focus
    m.d.rectangle([x - 4.5 * m.u, y - 2.5 * m.u, x + 4.5 * m.u, y + 2.5 * m.u], fill=m.pal.alt, outline=m.pal.seam, width=m.lw)


def _embroidery(m: Marker) -> None:
    x, y = m.focus[0] + 1.5 * m.u, m.focus[1] + 5 * m.u
    for k in range(5):
        a = k * 2 * math.pi / 5 - math.pi / 2
        _circle(m.d, (x + 1.6 * m.u * math.cos(a), y + 1.6 * m.u * math.sin(a)), 1.2 * m.u, m.pal.alt)
    _circle(m.d, (x, y), 0.8 * m.u, m.pal.seam)


def _reflective(m: Marker) -> None:
    (x0, y), (x1, _) = m.at(0, 0.6), m.at(1, 0.6)
    m.d.rectangle([x0, y, x1, y + 1.6 * m.u], fill=mix(m.pal.base, WHITE, 0.8))


def _ribbed(m: Marker) -> None:
    x0, _, x1, y1 = m.main
    for x in np.arange(x0 + m.u, x1, 1.6 * m.u):
        m.d.line([(x, y1 - 5 * m.u), (x, y1)], fill=m.pal.seam, width=m.lw)


def _dashes(pts: list[Pt], on: float, off: float) -> list[list[Pt]]:
    """Split a polyline into dashes `on` long separated by `off` gaps."""
    out, t_next, drawing, cur = [], on, True, [pts[0]]
    for a, b in zip(pts, pts[1:]):
        seg, pos = math.dist(a, b), 0.0
        while seg - pos > t_next:
            pos += t_next
            p = lerp(a, b, pos / seg)
            cur.append(p)
            if drawing:
                out.append(cur)
            cur, drawing, t_next = [p], not drawing, off if drawing else on
        t_next -= seg - pos
        cur.append(b)
    if drawing and len(cur) > 1:
        out.append(cur)
    return out


def _contrast_stitching(m: Marker) -> None:
    x0, y0, x1, y1 = m.main
    for dash in _dashes([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], 2 * m.u, 1.2 * m.u):
        m.d.line(dash, fill=m.pal.alt, width=m.lw)


def _quilted(m: Marker) -> None:
    x0, y0, x1, y1 = m.main
    for c in np.arange(y0 - x1, y1 - x0, 8 * m.u):  # lines y = x + c, clipped to the box
        a, b = max(x0, y0 - c), min(x1, y1 - c)
        m.d.line([(a, a + c), (b, b + c)], fill=m.pal.seam, width=m.lw)
    for c in np.arange(x0 + y0, x1 + y1, 8 * m.u):  # lines y = c - x
        a, b = max(x0, c - y1), min(x1, c - y0)
        m.d.line([(a, c - a), (b, c - b)], fill=m.pal.seam, width=m.lw)


def _pleats(m: Marker) -> None:
    for f in np.linspace(0.15, 0.85, 6):
        m.d.line([m.at(f, 0.45), m.at(f, 1.0)], fill=m.pal.seam, width=m.lw)


def _edge_loops(m: Marker, r: float, fill: RGB | None) -> None:
    x0, _, x1, y1 = m.main
    for x in np.arange(x0 + r, x1 - r / 2, 2 * r):
        box = [x - r, y1 - r, x + r, y1 + r]
        m.d.chord(box, 0, 180, fill=fill, outline=m.pal.seam, width=m.lw) if fill else m.d.arc(box, 0, 180, fill=m.pal.seam, width=m.lw)


def _ruffles(m: Marker) -> None:
    _edge_loops(m, 2.5 * m.u, None)


def _lace_trim(m: Marker) -> None:
    _edge_loops(m, 1.3 * m.u, mix(m.pal.base, WHITE, 0.75))


def _tassels(m: Marker) -> None:
    for c in (m.at(0, 0), m.at(1, 0), m.at(0, 1), m.at(1, 1)):
        for dx in (-1, 0, 1):
            m.d.line([c, (c[0] + dx * m.u, c[1] + 4 * m.u)], fill=m.pal.seam, width=m.lw)
        _circle(m.d, c, 1.2 * m.u, m.pal.alt)


def _grip_ring(m: Marker) -> None:
    c = m.at(0.5, 0.55)
    m.d.ellipse([c[0] - 6 * m.u, c[1] - 6 * m.u, c[0] + 6 * m.u, c[1] + 6 * m.u], fill=m.pal.mid, outline=OUTLINE, width=m.lw)
    _circle(m.d, c, 3.5 * m.u, m.pal.base)


DETAILS: dict[str, Callable[[Marker], None]] = {
    "pocket": _pocket, "zip": _zip, "drawstring": _drawstring, "logo-patch": _logo_patch, "embroidery": _embroidery,
    "reflective": _reflective, "ribbed": _ribbed, "contrast-stitching": _contrast_stitching, "quilted": _quilted,
    "pleats": _pleats, "ruffles": _ruffles, "lace-trim": _lace_trim, "tassels": _tassels, "grip-ring": _grip_ring,
}  # "handle" and "scouring-side" change the shape and are drawn by the category functions


# ---------------------------------------------------------------- material textures (final pixels)


def _wave(n: int, period: float, amp: float, axis: str) -> np.ndarray:
    x = np.arange(n, dtype=np.float32)
    row = amp * np.cos(2 * np.pi * x / period)
    return np.tile(row, (n, 1)) if axis == "x" else np.tile(row[:, None], (1, n))


def _texture(kind: str, n: int, rng: np.random.Generator, box: Box) -> np.ndarray:
    """A (n, n) float32 offset added to every channel inside the product: -12..+16 levels at most."""
    noise = rng.standard_normal((n, n)).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    x0, y0, x1, y1 = box
    if kind == "ribs":
        return _wave(n, max(2.0, n / 80), 6, "x") + 1.5 * noise
    if kind == "twill":
        return 6 * np.cos(2 * np.pi * (xx + yy) / max(2.5, n / 64)) + 2 * noise
    if kind == "grain":
        g = (noise + np.roll(noise, 1, 0) + np.roll(noise, 1, 1) + np.roll(noise, (1, 1), (0, 1))) / 2
        return np.clip(5 * g, -12, 12)
    if kind == "weave":
        p = max(2.0, n / 70)
        return _wave(n, p, 4, "x") + _wave(n, p, 4, "y") + 1.5 * noise
    if kind == "speckle":
        return np.clip(4 * noise, -10, 10)
    if kind == "wales":
        return 16 * (np.abs(np.sin(np.pi * xx / max(3.0, n / 40))) - 0.64) + noise
    if kind == "brushed":
        cols = np.tile(rng.standard_normal(n).astype(np.float32), (n, 1))
        return 9 * np.sin(2 * np.pi * (xx - x0) / max(1.0, x1 - x0)) + 3 * cols
    if kind == "gloss":
        band = (xx - x0 - 0.3 * (x1 - x0) + 0.25 * (yy - y0)) / max(1.0, 0.07 * (x1 - x0))
        return 16 * np.exp(-band ** 2) + noise
    if kind == "sheen":
        return 7 * np.sin(2 * np.pi * (xx + 0.5 * yy) / (0.45 * n)) + noise
    if kind == "smooth":
        return 2 * noise
    raise GenerationError(f"unknown texture {kind!r}")


TEXTURES: dict[str, str] = {
    "cotton": "ribs", "organic-cotton": "ribs", "spandex": "ribs", "wool": "ribs", "bamboo-fiber": "ribs",
    "denim": "twill", "leather": "grain", "vegan-leather": "grain", "canvas": "weave", "linen": "weave",
    "fleece": "speckle", "cashmere": "speckle", "microfiber": "speckle", "corduroy": "wales",
    "stainless-steel": "brushed", "silicone": "gloss", "tpu": "gloss", "tritan": "gloss",
    "polyester": "smooth", "recycled-polyester": "smooth", "nylon": "smooth", "silk": "sheen",
}


# ---------------------------------------------------------------- rendering


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer pixel width from {MIN_SIZE} to {MAX_SIZE} "
                         f"(e.g. 32, 64, 128, 256), got {size!r}")


def _sketch(spec: DesignSpec, taxonomy: Taxonomy) -> Sketch:
    """The category's sketch, after checking every attribute the renderer needs has a drawing."""
    taxonomy.category(spec.category)
    for name, table, what in ((spec.category, SHAPES, "category"), (spec.material, TEXTURES, "material"),
                              (spec.pattern, PATTERNS, "pattern")):
        if name not in table:
            raise GenerationError(f"the flat sketch cannot draw {what} {name!r}; drawable: {', '.join(sorted(table))}")
    sketch = SHAPES[spec.category](spec)
    for det in spec.details:
        if det not in DETAILS and det not in sketch.handled:
            drawable = sorted(set(DETAILS) | sketch.handled)
            raise GenerationError(f"the flat sketch cannot draw detail {det!r} on a {spec.category}; "
                                  f"drawable: {', '.join(drawable)}")
    return sketch


def _fit(sketch: Sketch, canvas: int) -> tuple[Callable[[Pt], Pt], float]:
    """Map sketch units to canvas pixels so the solid parts fill FILL of the canvas, centred."""
    pts = [p for part in sketch.parts if not part.cut and part.alpha == 1 for p in part.points]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    scale = FILL * canvas / max(max(xs) - min(xs), max(ys) - min(ys))
    ox = canvas / 2 - scale * (min(xs) + max(xs)) / 2
    oy = canvas / 2 - scale * (min(ys) + max(ys)) / 2
    return (lambda p: (ox + scale * p[0], oy + scale * p[1])), scale


def _mask_hi(sketch: Sketch, tf: Callable[[Pt], Pt], canvas: int) -> Image.Image:
    mask = Image.new("L", (canvas, canvas), 0)
    d = ImageDraw.Draw(mask)
    for part in sketch.parts:
        if part.alpha == 1:
            d.polygon([tf(p) for p in part.points], fill=0 if part.cut else 255)
    return mask


def product_mask(spec: DesignSpec, taxonomy: Taxonomy, size: int = 256) -> Image.Image:
    """The product's silhouette at `size` x `size`, mode "L": 255 inside the product, 0 outside."""
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    tf, _ = _fit(sketch, size * SUPERSAMPLE)
    soft = _mask_hi(sketch, tf, size * SUPERSAMPLE).resize((size, size), Image.Resampling.LANCZOS)
    return soft.point(lambda v: 255 if v >= 128 else 0)


def _paint(canvas: Image.Image, pts: list[Pt], source: Image.Image | RGB, alpha: float) -> None:
    """Paint `source` (an image the size of the canvas, or a colour) through polygon `pts`."""
    x0, y0 = max(0, int(min(p[0] for p in pts))), max(0, int(min(p[1] for p in pts)))
    x1 = min(canvas.width, int(max(p[0] for p in pts)) + 2)
    y1 = min(canvas.height, int(max(p[1] for p in pts)) + 2)
    m = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(m).polygon([(x - x0, y - y0) for x, y in pts], fill=round(255 * alpha))
    fill = source.crop((x0, y0, x1, y1)) if isinstance(source, Image.Image) else source
    canvas.paste(fill, (x0, y0, x1, y1), m)


def render_flat(spec: DesignSpec, taxonomy: Taxonomy, size: int = 256) -> Image.Image:
    """A flat technical sketch of `spec`: RGB, `size` x `size`, white background, product centred.

    Deterministic: the same spec and size always give identical pixels.
    """
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    pal = Palette.of(taxonomy.attribute("color", spec.color).rgb_tuple)
    rng = np.random.default_rng(zlib.crc32(spec.text().encode("utf-8")))
    hi = size * SUPERSAMPLE
    tf, u = _fit(sketch, hi)
    ow = max(2, round(hi * 2.5 / 1024))  # 2.5 px at 256
    lw = max(2, round(ow * 0.55))

    surface = Image.new("RGB", (hi, hi), pal.base)  # pattern and details, clipped later by each part
    sd = ImageDraw.Draw(surface)
    solid = [tf(p) for part in sketch.parts if not part.cut and part.alpha == 1 for p in part.points]
    box = (min(p[0] for p in solid), min(p[1] for p in solid), max(p[0] for p in solid), max(p[1] for p in solid))
    period = max(math.sqrt((box[2] - box[0]) * (box[3] - box[1])) / 6, MIN_PERIOD * SUPERSAMPLE)
    PATTERNS[spec.pattern](sd, box, period, pal, rng)
    (mx0, my0), (mx1, my1) = tf(sketch.main[:2]), tf(sketch.main[2:])
    marker = Marker(sd, (mx0, my0, mx1, my1), tf(sketch.focus), u, pal, lw)
    for det in spec.details:
        if det not in sketch.handled:
            DETAILS[det](marker)

    canvas = Image.new("RGB", (hi, hi), WHITE)
    cd = ImageDraw.Draw(canvas)
    for part in sketch.parts:
        pts = [tf(p) for p in part.points]
        source = WHITE if part.cut else surface if part.tone is None else shade(pal.base, part.tone)
        _paint(canvas, pts, source, part.alpha)
        if part.outline:
            cd.line(pts + pts[:1], fill=OUTLINE, width=ow, joint="curve")
    seam = mix(pal.base, pal.seam, min(1.0, size / FULL_LINES))
    for line in sketch.lines:
        pts = [tf(p) for p in line.points]
        if line.minor and size < FULL_LINES:
            continue
        for seg in _dashes(pts, 3 * u, 2 * u) if line.dashed else [pts]:
            cd.line(seg, fill=seam, width=lw, joint="curve")

    image = canvas.resize((size, size), Image.Resampling.LANCZOS)
    soft = np.asarray(_mask_hi(sketch, tf, hi).resize((size, size), Image.Resampling.LANCZOS), np.float32) / 255
    tex = _texture(TEXTURES[spec.material], size, rng, tuple(v / SUPERSAMPLE for v in box))  # type: ignore[arg-type]
    out = np.asarray(image, np.float32) + (tex * soft * min(1.0, size / FULL_LINES))[:, :, None]
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
