"""The procedural "flat technical sketch": a clean, deterministic drawing of a product from its spec.

Each category has a draw function returning a `Sketch` (filled polygons plus construction lines) in a
100x100 unit space, y pointing down. `render_flat` fits the sketch to 80% of the canvas, fills it with
the spec colour and pattern, outlines it, adds detail marks and a faint material texture. Pattern and
detail colours are shades of the base colour and cover well under half of the product, so the spec
colour stays dominant inside `product_mask` (the image checker judges colour there). Drawing happens
at 4x the final size and is box-downsampled for antialiasing. The same spec always gives the same
pixels: the only randomness is a numpy generator seeded with the CRC32 of `spec.text()`.
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
FULL_DETAIL = 128  # below this size texture and construction lines fade and minor lines are left out
OUTLINE: RGB = (38, 38, 42)
WHITE: RGB = (255, 255, 255)


# ---------------------------------------------------------------- sketch data and geometry helpers


@dataclass(frozen=True)
class Part:
    """One filled polygon. Parts are painted in order, each outlined, so later parts overlap earlier."""

    points: tuple[Pt, ...]
    tone: float | None = None  # None: base colour + pattern; a number: flat shade (+ lighter, - darker)
    alpha: float = 1.0  # below 1: a translucent overlay (sheer highlight), not part of the mask
    cut: bool = False  # a hole: painted white and removed from the mask
    outline: bool = True


@dataclass(frozen=True)
class Line:
    """A construction line (seam, hem, fold) drawn over the filled parts."""

    points: tuple[Pt, ...]
    dashed: bool = False
    minor: bool = False  # ribs, eyelets, stitching: left out of small images, where they turn to mush


@dataclass
class Sketch:
    parts: list[Part]
    lines: list[Line]
    main: Box  # the main panel, where detail marks go
    focus: Pt  # where a logo or an embroidered motif sits
    handled: frozenset[str] = field(default_factory=frozenset)  # details the shape draws itself


def part(pts: list[Pt], tone: float | None = None, alpha: float = 1.0, cut: bool = False,
         outline: bool = True) -> Part:
    return Part(tuple(pts), tone, alpha, cut, outline)


def stroke(pts: list[Pt], dashed: bool = False, minor: bool = False) -> Line:
    """A construction line; dashed (stitching) lines count as minor."""
    return Line(tuple(pts), dashed, minor or dashed)


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
    """A quadratic Bezier curve from a to b pulled toward c."""
    return [((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * c[0] + t * t * b[0],
             (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * c[1] + t * t * b[1]) for t in np.linspace(0, 1, n)]


def flip(pts: list[Pt]) -> list[Pt]:
    """The left-right mirror image of a separate shape (a left sleeve from a right one)."""
    return [(100 - x, y) for x, y in pts]


def mirror(pts: list[Pt]) -> list[Pt]:
    """The mirror image of a right-half outline, reversed so it continues the same polygon."""
    return flip(pts)[::-1]


def lerp(a: Pt, b: Pt, t: float) -> Pt:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def rotate(pts: list[Pt], deg: float, c: Pt = (50, 50)) -> list[Pt]:
    s, k = math.sin(math.radians(deg)), math.cos(math.radians(deg))
    return [(c[0] + (x - c[0]) * k - (y - c[1]) * s, c[1] + (x - c[0]) * s + (y - c[1]) * k) for x, y in pts]


def fringe(y0: float, y1: float, x0: float, x1: float) -> list[Part]:
    """Thin horizontal strands stacked from y0 to y1, each running from x0 to x1."""
    return [part([(x0, y - 0.9), (x1, y - 0.7), (x1, y + 0.7), (x0, y + 0.9)])
            for y in np.linspace(y0 + 0.9, y1 - 0.9, max(3, int((y1 - y0) / 3.2)))]


# ---------------------------------------------------------------- one draw function per category


def _tshirt(spec: DesignSpec) -> Sketch:
    w = {"oversized": 29, "slim": 21}.get(spec.silhouette or "", 25)  # half the body width
    hem = 70 if spec.silhouette == "cropped" else 88
    drop = 5 if spec.silhouette == "oversized" else 0  # dropped shoulder
    shoulder, armpit = (47 + w, 18 + drop), (50 + w, 36 + drop)
    right = [(59, 13), shoulder, armpit, (50 + w, hem)]
    body = right + mirror(right) + arc(50, 13, 9, 7, 180, 0)[1:-1]
    sleeve = [shoulder, (65 + w, 33 + drop), (58 + w, 43 + drop), armpit]
    lines = [stroke(arc(50, 13, 11.5, 10, 8, 172)), stroke([(51 - w, hem - 3), (49 + w, hem - 3)], dashed=True)]
    for s in (sleeve, flip(sleeve)):
        lines.append(stroke([lerp(s[1], s[0], 0.16), lerp(s[2], s[3], 0.16)], dashed=True))
    parts = [part(sleeve), part(flip(sleeve)), part(body)]
    return Sketch(parts, lines, (50 - w, 24, 50 + w, hem), (50 + w * 0.45, 32))


def _hoodie(spec: DesignSpec) -> Sketch:
    w = {"oversized": 31, "slim": 23}.get(spec.silhouette or "", 27)
    hem = 74 if spec.silhouette == "cropped" else 90
    shoulder, armpit, cuff_out, cuff_in = (48 + w, 24), (50 + w, 40), (63 + w, 84), (54 + w, 86)
    right = [(60, 20), shoulder, armpit, (50 + w, hem)]
    sleeve = [shoulder, cuff_out, cuff_in, armpit]
    cuff = [lerp(shoulder, cuff_out, 0.9), cuff_out, cuff_in, lerp(armpit, cuff_in, 0.9)]
    pocket = [(39, hem - 31), (61, hem - 31), (68, hem - 20), (68, hem - 9), (32, hem - 9), (32, hem - 20)]
    parts = [part(ellipse(50, 17, 15.5, 15)), part(sleeve), part(flip(sleeve)), part(cuff), part(flip(cuff)),
             part(right + mirror(right)), part(rrect(51 - w, hem - 7, 49 + w, hem, 1)), part(pocket),
             part(ellipse(50, 17, 8.5, 11), tone=-0.2)]  # hood, sleeves, cuffs, body, hem band, pocket, opening
    lines = [stroke(arc(50, 17, 11, 13.5, 200, 340)), stroke([(47, 27), (46, 42)]), stroke([(53, 27), (54, 43)])]
    lines += [stroke([(51 - w + k, hem - 6), (51 - w + k, hem - 1)], minor=True) for k in range(3, 2 * w - 3, 4)]
    return Sketch(parts, lines, (50 - w, 30, 50 + w, hem - 8), (50 + w * 0.45, 36),
                  frozenset({"drawstring", "pocket"}))


def _dress(spec: DesignSpec) -> Sketch:
    hw = {"a-line": 31, "slim": 17, "oversized": 30}.get(spec.silhouette or "", 25)  # half hem width
    hem = 97 if spec.silhouette == "maxi" else 84
    right = [(62, 6), (60, 15), (65, 23), (61, 40), (50 + hw, hem - 4)]
    body = [(38, 6)] + arc(50, 6, 8, 12, 180, 0)[1:-1] + right + arc(50, hem - 4, hw, 4, 0, 180) + mirror(right)
    lines = [stroke(arc(50, 36, 11.5, 4, 20, 160)), stroke(arc(50, 6, 10, 14, 170, 10))]
    lines += [stroke([(50 + 9 * k, 43), (50 + hw * k * 1.1, hem - 1)]) for k in (-0.55, -0.2, 0.2, 0.55)]
    return Sketch([part(body)], lines, (50 - hw * 0.7, 20, 50 + hw * 0.7, hem - 4), (56, 28))


def _leggings(spec: DesignSpec) -> Sketch:
    top = 0 if spec.silhouette == "high-waist" else 6
    ankle = 76 if spec.silhouette == "cropped" else 97
    out, inn = (68, 52) if spec.silhouette == "flared" else (61, 53.5)  # ankle x, outer and inner
    right = [(68, top), (69.5, 22), (67, 48), (63.5, 70), (out, ankle), (inn, ankle), (53, 70), (51.5, 44), (50, 36)]
    band = [(32, top), (68, top), (68.7, 13), (31.3, 13)]
    lines = [stroke([(50, 13), (50, 36)])]
    lines += [stroke(s, dashed=True) for s in ([(out - 0.5, ankle - 3), (inn + 0.3, ankle - 3)],
                                               flip([(out - 0.5, ankle - 3), (inn + 0.3, ankle - 3)]))]
    return Sketch([part(right + mirror(right[:-1])), part(band)], lines, (34, 16, 66, 60), (60, 24))


def _tights(spec: DesignSpec) -> Sketch:
    right = ([(65, 4), (67, 24), (64.5, 50), (61.5, 72), (61, 87)] + arc(57, 91.5, 4.5, 5.5, 0, 180)[1:]
             + [(53, 72), (52, 46), (50, 34)])
    sheer = 0.4 if spec.silhouette == "sheer" else 0.22  # strength of the light streak down each leg
    streak = [(58, 38), (59.8, 38), (57.8, 86), (57, 86)]
    parts = [part(right + mirror(right[:-1])), part(streak, tone=0.55, alpha=sheer, outline=False),
             part(flip(streak), tone=0.55, alpha=sheer, outline=False), part(rrect(35, 3, 65, 10, 1), tone=-0.1)]
    lines = [stroke(arc(50, 35, 15.5, 8, 200, 340)), stroke([(50, 10), (50, 34)]),
             stroke(arc(57, 91, 4, 3, 200, 340)), stroke(arc(43, 91, 4, 3, 200, 340))]
    return Sketch(parts, lines, (38, 12, 62, 40), (58, 22))


def _sneakers(spec: DesignSpec) -> Sketch:
    th = 13 if spec.silhouette == "chunky" else 8  # sole thickness
    lo = 8 if spec.silhouette == "low-top" else 0  # how much lower the collar sits
    upper = ([(8, 72)] + bezier((8, 72), (4, 50), (12, 36 + lo))[1:]
             + bezier((12, 36 + lo), (24, 32 + lo), (30, 42 + lo))[1:]
             + bezier((30, 42 + lo), (37, 45 + lo), (42, 36 + lo))[1:] + [(44, 26 + lo), (52, 25 + lo)]
             + bezier((55, 31 + lo), (68, 40 + lo / 2), (80, 50)) + bezier((80, 50), (95, 52), (96, 66))[1:]
             + [(96, 72)])
    eyestay = bezier((45, 37 + lo), (60, 47 + lo / 2), (73, 55))
    laces = [stroke([lerp((55, 31 + lo), (80, 50), t), eyestay[round(t * 11)]]) for t in (0.1, 0.35, 0.6)]
    lines = [stroke(eyestay), stroke(bezier((77, 72), (77, 57), (93, 56))), stroke(bezier((7, 52), (22, 50), (27, 72))),
             stroke(bezier((27, 64), (48, 50), (70, 62))), stroke([(6, 70 + th / 2), (95, 70 + th / 2)], dashed=True),
             *laces]  # eyestay, toe cap, heel counter, side panel, midsole, laces
    parts = [part(upper), part(rrect(4, 70, 97, 70 + th, th / 2.2), tone=0.0)]
    return Sketch(parts, lines, (14, 50, 72, 68), (40, 58))


def _cap(spec: DesignSpec) -> Sketch:
    tip = (103, 63) if spec.silhouette == "flat-brim" else (101, 70)
    crown = arc(44, 66, 34, 46, 180, 360, 40) + arc(44, 66, 34, 4, 0, 180, 16)[1:-1]
    brim = bezier((52, 65), (82, 54), tip) + bezier(tip, (84, 78), (54, 72))[1:]
    lines = [stroke(arc(44, 66, 16, 46, 272, 358)), stroke(arc(44, 66, 12, 46, 182, 268)),
             stroke([(44, 20), (44, 66)]), stroke(bezier((58, 65), (82, 58), (tip[0] - 4, tip[1] + 1)), dashed=True)]
    lines += [stroke(ellipse(x, y, 1.3, 1.3, 12), minor=True) for x, y in ((26, 38), (62, 37))]  # eyelets
    return Sketch([part(crown), part(brim), part(ellipse(44, 20.5, 3.5, 2.2))], lines, (46, 30, 60, 60), (52, 46))


def _tote(spec: DesignSpec) -> Sketch:
    if spec.silhouette == "slouchy":
        body = [(20, 38), (80, 38)] + arc(74, 84, 12, 10, 345, 450)[1:] + arc(26, 84, 12, 10, 90, 195)[:-1]
    else:
        body = rrect(18, 38, 82, 95, 2)
    parts = [part(arch(50, 39, 17, 33, 3.6)), part(body), part(arch(50, 47, 19, 34, 3.6))]  # back handle first
    lines = [stroke([(20, 42), (80, 42)], dashed=True)]
    for x in (31, 65.4):  # box-and-cross stitching where the front handle is sewn on
        lines.append(stroke([(x, 43), (x + 3.6, 43), (x + 3.6, 47), (x, 47), (x, 43), (x + 3.6, 47)], minor=True))
    return Sketch(parts, lines, (22, 48, 78, 92), (50, 66))


def _scarf(spec: DesignSpec) -> Sketch:
    x0, y0, x1, y1 = {"square": (12, 12, 88, 88), "maxi": (6, 40, 94, 60)}.get(spec.silhouette or "", (9, 34, 91, 66))
    parts = [part(rrect(x0, y0, x1, y1, 1))] + fringe(y0, y1, x0 + 0.5, x0 - 7) + fringe(y0, y1, x1 - 0.5, x1 + 7)
    lines = [stroke([(x0 + 1, y + 2 * s), (x1 - 1, y + 2 * s)], dashed=True) for y, s in ((y0, 1), (y1, -1))]
    return Sketch(parts, lines, (x0 + 4, y0 + 2, x1 - 4, y1 - 2), (x1 - 14, (y0 + y1) / 2), frozenset({"tassels"}))


def _socks(spec: DesignSpec) -> Sketch:
    top = {"ankle": 36, "knee-high": -30}.get(spec.silhouette or "", 6)
    body = ([(30, top), (54, top), (54, 50), (64, 56), (80, 58)] + arc(84, 70, 11, 12, 270, 450)
            + [(42, 82)] + arc(40, 68, 13, 14, 90, 180) + [(29, 50)])
    cuff = [(30, top), (54, top), (54, top + 9), (30, top + 9)]
    lines = [stroke([(x, top + 1), (x, top + 8)], minor=True) for x in range(33, 53, 3)]
    lines += [stroke(arc(43, 68, 9, 12, 100, 200)), stroke(arc(81, 70, 6, 12, 285, 435))]  # heel, toe
    return Sketch([part(body), part(cuff)], lines, (31, top + 11, 53, 56), (42, (top + 50) / 2 + 4))


def _cleaning_cloth(spec: DesignSpec) -> Sketch:
    """A square cloth, turned a little, with its bottom-right corner folded over."""
    scour = "scouring-side" in spec.details
    cloth = (arc(21, 21, 5, 5, 180, 270, 6) + arc(79, 21, 5, 5, 270, 360, 6) + [(84, 62), (62, 84)]
             + arc(21, 79, 5, 5, 90, 180, 6))
    flap = [(84, 62), (62, 84), (66, 66)]
    lines = [stroke(rotate([(20, 20), (80, 20), (80, 60), (60, 80), (20, 80), (20, 20)], -8), dashed=True)]
    if scour:  # the folded corner shows the darker, cross-hatched scouring side
        lines += [stroke(rotate([lerp(flap[0], flap[1], t), lerp(flap[2], flap[1], t)], -8)) for t in (0.3, 0.6)]
    parts = [part(rotate(cloth, -8)), part(rotate(flap, -8), tone=-0.3 if scour else 0.2)]
    return Sketch(parts, lines, (24, 24, 70, 70), (34, 34), frozenset({"scouring-side"}))


def _pillow(lo: float, hi: float, bow: float) -> list[Pt]:
    """A square from lo to hi whose sides bow inward by `bow`: a stuffed cushion."""
    m = (lo + hi) / 2
    return (bezier((lo, lo), (m, lo + bow), (hi, lo))[:-1] + bezier((hi, lo), (hi - bow, m), (hi, hi))[:-1]
            + bezier((hi, hi), (m, hi - bow), (lo, hi))[:-1] + bezier((lo, hi), (lo + bow, m), (lo, lo))[:-1])


def _cushion(spec: DesignSpec) -> Sketch:
    lines = [stroke(_pillow(16, 84, 9) + [(16, 16)], dashed=True)]
    lines += [stroke([c, lerp(c, (50, 50), 0.18)]) for c in ((12, 12), (88, 12), (88, 88), (12, 88))]
    return Sketch([part(_pillow(12, 88, 10))], lines, (24, 24, 76, 76), (50, 50))


def _throw_blanket(spec: DesignSpec) -> Sketch:
    """A folded stack (three layer edges showing) with the top corner turned back."""
    parts = [part(rrect(10, 30, 90, 82, 3)), part(rrect(9, 26, 91, 78, 3)), part(rrect(8, 20, 92, 72, 3)),
             part([(70, 20), (92, 20), (92, 42)], tone=-0.2)]
    if spec.silhouette == "fringed-edge":
        parts += fringe(20, 72, 8.5, 1.5) + fringe(20, 72, 91.5, 98.5)
    lines = [stroke(s, dashed=True) for s in ([(12, 24), (66, 24)], [(12, 68), (88, 68)], [(12, 24), (12, 68)])]
    return Sketch(parts, lines, (14, 28, 86, 66), (30, 40))


def _phone_case(spec: DesignSpec) -> Sketch:
    bump = 2.5 if spec.silhouette == "rugged" else 0  # thicker bumper edges
    parts = [part(rrect(72, 20, 73.8 + bump / 2, 30, 0.8)), part(rrect(72, 34, 73.8 + bump / 2, 42, 0.8)),
             part(rrect(28 - bump, 4 - bump, 72 + bump, 96 + bump, 9 + bump)),
             part(rrect(33, 9, 51, 28, 5), cut=True)]  # side buttons, shell, camera cut-out
    lines = [stroke(rrect(30, 6, 70, 94, 7) + [(30, 13)])]
    lines += [stroke(ellipse(x, y, 3, 3, 16) + [(x + 3, y)]) for x, y in ((38, 14.5), (46, 14.5), (38, 22.5))]
    return Sketch(parts, lines, (32, 32, 68, 90), (50, 60))


def _tumbler(spec: DesignSpec) -> Sketch:
    t, b = {"tall": (16, 97), "compact": (42, 92)}.get(spec.silhouette or "", (28, 94))  # body top, bottom
    body = [(32, t), (68, t), (65, b - 3)] + arc(50, b - 3, 15, 3, 0, 180)[1:-1] + [(35, b - 3)]
    parts = [part(body), part(rrect(30.5, t - 11, 69.5, t + 1, 2), tone=0.0),
             part(rrect(44, t - 14, 56, t - 10, 1), tone=0.0)]  # body, lid, sip spout
    if "handle" in spec.details:
        m = (t + b) / 2
        parts.insert(0, part(arc(66, m, 13, 16, 270, 450) + arc(66, m, 8, 11, 450, 270)))
    lines = [stroke(arc(50, t + 6, 17.8, 2.5, 10, 170)), stroke(arc(50, b - 11, 15.8, 2.5, 10, 170))]
    return Sketch(parts, lines, (36, t + 10, 64, b - 12), (50, (t + b) / 2), frozenset({"handle"}))


SHAPES: dict[str, Callable[[DesignSpec], Sketch]] = {
    "t-shirt": _tshirt, "dress": _dress, "hoodie": _hoodie, "leggings": _leggings, "sneakers": _sneakers,
    "tote-bag": _tote, "cap": _cap, "scarf": _scarf, "socks": _socks, "tights": _tights,
    "cleaning-cloth": _cleaning_cloth, "cushion-cover": _cushion, "throw-blanket": _throw_blanket,
    "phone-case": _phone_case, "tumbler": _tumbler,
}


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


def _dashes(pts: list[Pt], on: float, off: float) -> list[list[Pt]]:
    """Split a polyline into dashes `on` long separated by `off` gaps."""
    out, left, drawing, cur = [], on, True, [pts[0]]  # left: distance until the next dash/gap switch
    for a, b in zip(pts, pts[1:]):
        seg, pos = math.dist(a, b), 0.0
        while seg - pos > left:
            pos += left
            p = lerp(a, b, pos / seg)
            if drawing:
                out.append(cur + [p])
            cur, drawing, left = [p], not drawing, off if drawing else on
        left -= seg - pos
        cur.append(b)
    if drawing and len(cur) > 1:
        out.append(cur)
    return out


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
    for dash in _dashes([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], 2 * b.u, 1.2 * b.u):
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


def _texture(kind: str, n: int, rng: np.random.Generator, box: Box) -> np.ndarray:
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
}


# ---------------------------------------------------------------- rendering


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer number of pixels from {MIN_SIZE} to {MAX_SIZE} "
                         f"(e.g. 32, 64, 128, 256), got {size!r}")


def _sketch(spec: DesignSpec, taxonomy: Taxonomy) -> Sketch:
    """The category's sketch, after checking the renderer can draw everything the spec names."""
    taxonomy.category(spec.category)  # TaxonomyError naming the categories if unknown
    for name, table, what in ((spec.category, SHAPES, "category"), (spec.material, TEXTURES, "material"),
                              (spec.pattern, PATTERNS, "pattern")):
        if name not in table:
            raise GenerationError(f"the flat sketch cannot draw {what} {name!r}; "
                                  f"drawable: {', '.join(sorted(table))}")
    sketch = SHAPES[spec.category](spec)
    for detail in spec.details:
        if detail not in DETAILS and detail not in sketch.handled:
            drawable = ", ".join(sorted(set(DETAILS) | sketch.handled))
            raise GenerationError(f"the flat sketch cannot draw detail {detail!r} on a {spec.category}; "
                                  f"drawable: {drawable}")
    return sketch


@dataclass(frozen=True)
class _Frame:
    """Where the sketch lands on the supersampled canvas: canvas = offset + scale * sketch units."""

    scale: float
    ox: float
    oy: float

    @classmethod
    def fit(cls, sketch: Sketch, canvas: int) -> _Frame:
        """Scale the solid parts so their longer side is FILL of the canvas, and centre them."""
        pts = [p for pt in sketch.parts if not pt.cut and pt.alpha == 1 for p in pt.points]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        scale = FILL * canvas / max(max(xs) - min(xs), max(ys) - min(ys))
        return cls(scale, canvas / 2 - scale * (min(xs) + max(xs)) / 2, canvas / 2 - scale * (min(ys) + max(ys)) / 2)

    def __call__(self, pts: tuple[Pt, ...] | list[Pt]) -> list[Pt]:
        return [(self.ox + self.scale * x, self.oy + self.scale * y) for x, y in pts]


def _mask_hi(sketch: Sketch, frame: _Frame, canvas: int) -> Image.Image:
    mask = Image.new("L", (canvas, canvas), 0)
    d = ImageDraw.Draw(mask)
    for pt in sketch.parts:
        if pt.alpha == 1:
            d.polygon(frame(pt.points), fill=0 if pt.cut else 255)
    return mask


def product_mask(spec: DesignSpec, taxonomy: Taxonomy, size: int = 256) -> Image.Image:
    """The product's silhouette at `size` x `size`, mode "L": 255 where the product covers at least
    half of a pixel in `render_flat`'s image of the same spec and size, 0 elsewhere."""
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    hi = size * SUPERSAMPLE
    soft = _mask_hi(sketch, _Frame.fit(sketch, hi), hi).reduce(SUPERSAMPLE)
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

    Deterministic: the same spec and size always give identical pixels. Raises ValueError for a size
    outside 32..1024 and TaxonomyError / GenerationError for anything the spec names that cannot be drawn.
    """
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    pal = Palette.of(taxonomy.attribute("color", spec.color).rgb_tuple)
    rng = np.random.default_rng(zlib.crc32(spec.text().encode("utf-8")))
    hi = size * SUPERSAMPLE
    frame = _Frame.fit(sketch, hi)
    ow = max(2, round(hi * 2.5 / 1024))  # outline: 2.5 px at 256
    lw = max(2, round(ow * 0.55))
    fade = min(1.0, size / FULL_DETAIL)

    # 1. The surface: base colour, pattern over the product's box, detail marks. Parts are filled from it.
    surface = Image.new("RGB", (hi, hi), pal.base)
    solid = [p for pt in sketch.parts if not pt.cut and pt.alpha == 1 for p in frame(pt.points)]
    box = (min(p[0] for p in solid), min(p[1] for p in solid), max(p[0] for p in solid), max(p[1] for p in solid))
    period = max(math.sqrt((box[2] - box[0]) * (box[3] - box[1])) / 6, MIN_PERIOD * SUPERSAMPLE)
    (mx0, my0), (mx1, my1) = frame([sketch.main[:2], sketch.main[2:]])
    brush = Brush(ImageDraw.Draw(surface), box, (mx0, my0, mx1, my1), frame([sketch.focus])[0], period,
                  frame.scale, lw, pal, rng)
    PATTERNS[spec.pattern](brush)
    for detail in spec.details:
        if detail not in sketch.handled:
            DETAILS[detail](brush)

    # 2. The canvas: each part filled (surface, flat shade or a white hole) and outlined, then the lines.
    canvas = Image.new("RGB", (hi, hi), WHITE)
    draw = ImageDraw.Draw(canvas)
    for pt in sketch.parts:
        pts = frame(pt.points)
        _paint(canvas, pts, WHITE if pt.cut else surface if pt.tone is None else shade(pal.base, pt.tone), pt.alpha)
        if pt.outline:
            draw.line(pts + pts[:2], fill=OUTLINE, width=ow, joint="curve")
    seam = mix(pal.base, pal.seam, fade)
    for ln in sketch.lines:
        if ln.minor and size < FULL_DETAIL:
            continue
        pts = frame(ln.points)
        for seg in _dashes(pts, 3 * frame.scale, 2 * frame.scale) if ln.dashed else [pts]:
            draw.line(seg, fill=seam, width=lw, joint="curve")

    # 3. Downsample, then add the material texture inside the product.
    image = np.asarray(canvas.reduce(SUPERSAMPLE), np.float32)
    inside = np.asarray(_mask_hi(sketch, frame, hi).reduce(SUPERSAMPLE), np.float32) / 255
    tex = _texture(TEXTURES[spec.material], size, rng, tuple(v / SUPERSAMPLE for v in box))
    out = image + (tex * inside * fade)[:, :, None]
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
